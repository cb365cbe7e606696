/* twitter_web_parse_user.c - a user result of the X web client -> Profile (twitter.md 8.2, Go's
 * capitalised member names, one mapping for every operation), an AudioSpaceById answer -> Space
 * (8.5), and the trend names of a trends answer.
 *
 * User fields are read from their 2026 places first (twitter-modern.md 5.3: core, avatar,
 * location, privacy, verification, profile_bio, relationship_counts, tweet_counts, action_counts,
 * pinned_items, banner, relationship_perspectives), then from `legacy` (2024). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kinds/twitter_web_parse.h"
#include "kinds/twitter_web_parse_internal.h"

#define TRENDS_MAX_DEPTH 48

/* ---- Profile ---- */

/* url_map_of: t.co url -> expanded url of an entities urls array (new object or NULL). */
static json_t *url_map_of(const json_t *urls)
{
    json_t *map = json_array_size(urls) ? json_object() : NULL;
    size_t i;
    const json_t *u;
    json_array_foreach(urls, i, u) {
        const char *from = twp_str(u, "url"), *to = twp_str(u, "expanded_url");
        if (map && *from && *to && !json_object_get(map, from))
            json_object_set_new(map, from, json_string(to));
    }
    return map;
}

static const char *website_of(const json_t *u)
{
    static const char *const paths[] = { "profile_bio.entities.url.urls",
                                         "legacy.entities.url.urls" };
    for (size_t p = 0; p < 2; p++) {
        size_t i;
        const json_t *v;
        json_array_foreach(twp_get(u, paths[p]), i, v)
            if (*twp_str(v, "expanded_url"))
                return twp_str(v, "expanded_url");
    }
    return twp_str2(u, "website.expanded_url", "website.url");
}

/* pinned_of: PinnedTweetIDs: the id strings (an array, maybe empty) or null when X sent none. */
static json_t *pinned_of(const json_t *u)
{
    const json_t *ids = twp_get(u, "pinned_items.tweet_ids_str");
    if (!json_is_array(ids))
        ids = twp_get(u, "legacy.pinned_tweet_ids_str");
    if (!json_is_array(ids))
        return json_null();
    json_t *out = json_array();
    size_t i;
    const json_t *v;
    json_array_foreach(ids, i, v) {
        long long id;
        if (out && json_is_string(v) && twp_parse_id(json_string_value(v), &id) == 0 &&
            json_array_append_new(out, json_string(json_string_value(v))) < 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

static json_t *joined_of(const char *created)
{
    long long secs;
    char buf[40];
    if (twp_x_time(created, &secs) < 0)
        return json_null();
    twp_rfc3339(secs, buf, sizeof buf);
    return json_string(buf);
}

json_t *twp_profile(const json_t *u)
{
    const char *type = twp_typename(u);
    const char *rest_id = twp_str2(u, "rest_id", "legacy.id_str");
    long long id;
    if (!json_is_object(u) || (*type && strcmp(type, "User") != 0) ||
        twp_parse_id(rest_id, &id) < 0)
        return NULL;

    const char *screen = twp_str2(u, "core.screen_name", "legacy.screen_name");
    const json_t *bio_urls = twp_get(u, "profile_bio.entities.description.urls");
    if (!json_is_array(bio_urls))
        bio_urls = twp_get(u, "legacy.entities.description.urls");
    json_t *map = url_map_of(bio_urls);
    char *bio = twp_expand(twp_str2(u, "profile_bio.description", "legacy.description"), map,
                           NULL);
    json_decref(map);
    char *url = NULL;
    if (asprintf(&url, "https://twitter.com/%s", screen) < 0)
        url = NULL;
    long long following = twp_int2(u, "relationship_counts.following", "legacy.friends_count");

    json_t *p = json_object();
    int rc = (p && bio && url) ? 0 : -1;
    if (rc == 0) {
        rc |= json_object_set_new(p, "Avatar", json_string(twp_str2(u, "avatar.image_url",
                                                   "legacy.profile_image_url_https")));
        rc |= json_object_set_new(p, "Banner", json_string(twp_str2(u, "banner.image_url",
                                                   "legacy.profile_banner_url")));
        rc |= json_object_set_new(p, "Biography", json_string(bio));
        rc |= json_object_set_new(p, "Birthday", json_string(""));
        rc |= json_object_set_new(p, "FollowersCount", json_integer(twp_int2(u,
                                                   "relationship_counts.followers",
                                                   "legacy.followers_count")));
        rc |= json_object_set_new(p, "FollowingCount", json_integer(following));
        rc |= json_object_set_new(p, "FriendsCount", json_integer(following));
        rc |= json_object_set_new(p, "IsPrivate", json_boolean(twp_bool2(u, "privacy.protected",
                                                   "legacy.protected")));
        rc |= json_object_set_new(p, "IsVerified", json_boolean(twp_bool2(u,
                                                   "verification.verified", "legacy.verified")));
        rc |= json_object_set_new(p, "IsBlueVerified", json_boolean(twp_bool2(u,
                                                   "is_blue_verified", "legacy.is_blue_verified")));
        rc |= json_object_set_new(p, "Joined", joined_of(twp_str2(u, "core.created_at",
                                                   "legacy.created_at")));
        rc |= json_object_set_new(p, "LikesCount", json_integer(twp_int2(u,
                                                   "action_counts.favorites_count",
                                                   "legacy.favourites_count")));
        rc |= json_object_set_new(p, "ListedCount", json_integer(twp_int2(u,
                                                   "relationship_counts.listed",
                                                   "legacy.listed_count")));
        rc |= json_object_set_new(p, "Location", json_string(twp_str2(u, "location.location",
                                                   "legacy.location")));
        rc |= json_object_set_new(p, "Name", json_string(twp_str2(u, "core.name",
                                                   "legacy.name")));
        rc |= json_object_set_new(p, "PinnedTweetIDs", pinned_of(u));
        rc |= json_object_set_new(p, "TweetsCount", json_integer(twp_int2(u,
                                                   "tweet_counts.tweets",
                                                   "legacy.statuses_count")));
        rc |= json_object_set_new(p, "URL", json_string(url));
        rc |= json_object_set_new(p, "UserID", json_string(rest_id));
        rc |= json_object_set_new(p, "Username", json_string(screen));
        rc |= json_object_set_new(p, "Website", json_string(website_of(u)));
        rc |= json_object_set_new(p, "Sensitive", json_boolean(twp_bool2(u,
                                                   "possibly_sensitive",
                                                   "legacy.possibly_sensitive")));
        rc |= json_object_set_new(p, "Following", json_boolean(twp_bool2(u,
                                                   "relationship_perspectives.following",
                                                   "legacy.following")));
        rc |= json_object_set_new(p, "FollowedBy", json_boolean(twp_bool2(u,
                                                   "relationship_perspectives.followed_by",
                                                   "legacy.followed_by")));
        rc |= json_object_set_new(p, "MediaCount", json_integer(twp_int2(u,
                                                   "tweet_counts.media_tweets",
                                                   "legacy.media_count")));
        rc |= json_object_set_new(p, "FastFollowersCount", json_integer(twp_int(u,
                                                   "legacy.fast_followers_count", NULL)));
        rc |= json_object_set_new(p, "NormalFollowersCount", json_integer(twp_int(u,
                                                   "legacy.normal_followers_count", NULL)));
        rc |= json_object_set_new(p, "ProfileImageShape", json_string(twp_str(u,
                                                   "profile_image_shape")));
        rc |= json_object_set_new(p, "HasGraduatedAccess", json_boolean(twp_bool2(u,
                                                   "has_graduated_access",
                                                   "legacy.has_graduated_access")));
        rc |= json_object_set_new(p, "CanHighlightTweets", json_boolean(twp_bool2(u,
                                                   "highlights_info.can_highlight_tweets",
                                                   "legacy.can_highlight_tweets")));
    }
    free(bio);
    free(url);
    if (rc) {
        json_decref(p);
        return NULL;
    }
    return p;
}

/* ---- Space ---- */

static json_t *time_of_ms(long long ms)
{
    char buf[40];
    twp_rfc3339(ms / 1000, buf, sizeof buf);
    return json_string(buf);
}

/* space_users: [SpaceUser] of a participants list, null when empty. */
static json_t *space_users(const json_t *list)
{
    if (json_array_size(list) == 0)
        return json_null();
    json_t *out = json_array();
    size_t i;
    const json_t *v;
    json_array_foreach(list, i, v) {
        if (!json_is_object(v))
            continue;
        json_t *u = json_pack("{s:s, s:s, s:s, s:s, s:b, s:o}",
            "UserID", twp_str2(v, "user_results.rest_id", "user_results.result.rest_id"),
            "Username", twp_str(v, "twitter_screen_name"),
            "Name", twp_str(v, "display_name"),
            "Avatar", twp_str(v, "avatar_url"),
            "IsVerified", (int)json_is_true(json_object_get(v, "is_verified")),
            "ConnectedAt", time_of_ms(twp_int(v, "start", NULL)));
        if (!out || !u || json_array_append_new(out, u) < 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

json_t *twp_space(const json_t *space, char *why, size_t whylen)
{
    const json_t *m = json_object_get(space, "metadata");
    const json_t *parts = json_object_get(space, "participants");
    if (!*twp_str(m, "rest_id")) {
        snprintf(why, whylen, "space not found");
        return NULL;
    }
    json_t *topics = json_array();
    size_t i;
    const json_t *t;
    json_array_foreach(json_object_get(m, "topics"), i, t) {
        const json_t *topic = json_object_get(t, "topic");
        if (!json_is_object(topic))
            continue;
        if (!topics || json_array_append_new(topics, json_pack("{s:s, s:s}", "ID",
                                         twp_str(topic, "topic_id"), "Title",
                                         twp_str(topic, "name"))) < 0) {
            json_decref(topics);
            topics = NULL;
            break;
        }
    }
    json_t *out = NULL;
    if (topics)
        out = json_pack("{s:s, s:s, s:s, s:s, s:o, s:{s:I, s:I, s:o?, s:o?, s:o?}, "
                        "s:o, s:o, s:o, s:o}",
            "ID", twp_str(m, "rest_id"), "State", twp_str(m, "state"),
            "Title", twp_str(m, "title"), "ContentType", twp_str(m, "content_type"),
            "Topics", topics,
            "Participants",
                "TotalCount", (json_int_t)twp_int(m, "total_live_listeners", NULL),
                "CurrentCount", (json_int_t)twp_int(parts, "total", NULL),
                "Admins", space_users(json_object_get(parts, "admins")),
                "Speakers", space_users(json_object_get(parts, "speakers")),
                "Listeners", space_users(json_object_get(parts, "listeners")),
            "CreatedAt", time_of_ms(twp_int(m, "created_at", NULL)),
            "ScheduledStart", time_of_ms(twp_int(m, "scheduled_start", NULL)),
            "StartedAt", time_of_ms(twp_int(m, "started_at", NULL)),
            "UpdatedAt", time_of_ms(twp_int(m, "updated_at", NULL)));
    if (!out)
        snprintf(why, whylen, "out of memory while building the space");
    return out;
}

/* ---- trends ---- */

void twp_trends(const json_t *v, json_t *out, int depth)
{
    if (depth > TRENDS_MAX_DEPTH)
        return;
    if (json_is_array(v)) {
        size_t i;
        const json_t *e;
        json_array_foreach(v, i, e)
            twp_trends(e, out, depth + 1);
        return;
    }
    if (!json_is_object(v))
        return;
    if (strcmp(twp_typename(v), "TimelineTrend") == 0) {
        const char *name = twp_str(v, "name");
        if (*name)
            json_array_append_new(out, json_string(name));
        return;
    }
    const char *legacy_name = twp_str(v, "trendMetadata.trendName");
    if (*legacy_name) {
        json_array_append_new(out, json_string(legacy_name));
        return;
    }
    const char *key;
    const json_t *member;
    json_object_foreach((json_t *)v, key, member)
        twp_trends(member, out, depth + 1);
}
