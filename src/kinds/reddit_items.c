/* reddit_items.c - the four Reddit record tables and the dataType dispatch (see reddit_items.h). */
#include "kinds/reddit_items.h"

#include <stdio.h>
#include <string.h>

#include "kinds/json_record.h"

static const struct record_field user_fields[] = {
    { "id", RT_STRING, NULL, false },          { "url", RT_STRING, NULL, false },
    { "username", RT_STRING, NULL, false },    { "userIcon", RT_STRING, NULL, false },
    { "postKarma", RT_INT, NULL, false },      { "commentKarma", RT_INT, NULL, false },
    { "description", RT_STRING, NULL, false }, { "over18", RT_BOOL, NULL, false },
    { "createdAt", RT_TIME, NULL, false },     { "scrapedAt", RT_TIME, NULL, false },
    { "dataType", RT_STRING, NULL, false },
};

static const struct record_field post_fields[] = {
    { "id", RT_STRING, NULL, false },
    { "parsedId", RT_STRING, NULL, false },
    { "url", RT_STRING, NULL, false },
    { "username", RT_STRING, NULL, false },
    { "title", RT_STRING, NULL, false },
    { "communityName", RT_STRING, NULL, false },
    { "parsedCommunityName", RT_STRING, NULL, false },
    { "body", RT_STRING, NULL, false },
    { "html", RT_STRING_NULL, NULL, false },
    { "numberOfComments", RT_INT, NULL, false },
    { "upVotes", RT_INT, NULL, false },
    { "isVideo", RT_BOOL, NULL, false },
    { "isAd", RT_BOOL, NULL, false },
    { "over18", RT_BOOL, NULL, false },
    { "createdAt", RT_TIME, NULL, false },
    { "scrapedAt", RT_TIME, NULL, false },
    { "dataType", RT_STRING, NULL, false },
};

static const struct record_field comment_fields[] = {
    { "id", RT_STRING, NULL, false },
    { "parsedId", RT_STRING, NULL, false },
    { "url", RT_STRING, NULL, false },
    { "parentId", RT_STRING, NULL, false },
    { "username", RT_STRING, NULL, false },
    { "category", RT_STRING, NULL, false },
    { "communityName", RT_STRING, NULL, false },
    { "body", RT_STRING, NULL, false },
    { "createdAt", RT_TIME, NULL, false },
    { "scrapedAt", RT_TIME, NULL, false },
    { "upVotes", RT_INT, NULL, false },
    { "numberOfreplies", RT_INT, NULL, false },
    { "html", RT_STRING, NULL, false },
    { "dataType", RT_STRING, NULL, false },
};

static const struct record_field community_fields[] = {
    { "id", RT_STRING, NULL, false },          { "name", RT_STRING, NULL, false },
    { "title", RT_STRING, NULL, false },       { "headerImage", RT_STRING, NULL, false },
    { "description", RT_STRING, NULL, false }, { "over18", RT_BOOL, NULL, false },
    { "createdAt", RT_TIME, NULL, false },     { "scrapedAt", RT_TIME, NULL, false },
    { "numberOfMembers", RT_INT, NULL, false }, { "url", RT_STRING, NULL, false },
    { "dataType", RT_STRING, NULL, false },
};

static const struct {
    const char *data_type;
    struct record record;
} kinds[] = {
    { "user", RECORD(user_fields) },
    { "post", RECORD(post_fields) },
    { "comment", RECORD(comment_fields) },
    { "community", RECORD(community_fields) },
};

json_t *reddit_item_decode(const json_t *raw, char *why, size_t whylen)
{
    const char *type = json_string_value(record_get_ci(raw, "dataType"));
    for (size_t i = 0; type && i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(type, kinds[i].data_type) == 0)
            return record_decode(&kinds[i].record, raw, why, whylen);
    if (why && whylen)
        snprintf(why, whylen, json_is_object(raw) ? "unknown dataType" : "not an object");
    return NULL;
}

json_t *reddit_items_decode(const json_t *raw)
{
    return record_decode_items(raw, reddit_item_decode, "reddit");
}
