/* twitter_tweet_result.c - the one TweetResult builder (see twitter_tweet_result.h). */
#include "kinds/twitter_tweet_result.h"

static json_t *str(const char *s)
{
    return json_string(s ? s : "");
}

static json_t *list(json_t *a)
{
    return a ? json_incref(a) : json_null();
}

json_t *tweet_result_build(const struct tweet_result *t)
{
    json_t *r = json_object();
    if (!r)
        return NULL;
    int rc = 0;
    rc |= json_object_set_new(r, "id", json_integer(t->id));
    rc |= json_object_set_new(r, "tweet_id", str(t->tweet_id));
    rc |= json_object_set_new(r, "conversation_id", str(t->conversation_id));
    rc |= json_object_set_new(r, "user_id", str(t->user_id));
    rc |= json_object_set_new(r, "text", str(t->text));
    rc |= json_object_set_new(r, "created_at",
                              str(t->created_at ? t->created_at : "1970-01-01T00:00:00Z"));
    rc |= json_object_set_new(r, "timestamp", json_integer(t->timestamp));
    rc |= json_object_set_new(r, "ThreadCursor",
                              json_pack("{s:o, s:o, s:o, s:o}", "focal_tweet_id",
                                        str(t->focal_tweet_id), "thread_id", str(t->thread_id),
                                        "cursor", str(t->cursor), "cursor_type",
                                        str(t->cursor_type)));
    rc |= json_object_set_new(r, "is_quoted", json_boolean(t->is_quoted));
    rc |= json_object_set_new(r, "is_pin", json_boolean(t->is_pin));
    rc |= json_object_set_new(r, "is_reply", json_boolean(t->is_reply));
    rc |= json_object_set_new(r, "is_retweet", json_boolean(t->is_retweet));
    rc |= json_object_set_new(r, "is_self_thread", json_boolean(t->is_self_thread));
    rc |= json_object_set_new(r, "likes", json_integer(t->likes));
    rc |= json_object_set_new(r, "hashtags", list(t->hashtags));
    rc |= json_object_set_new(r, "html", str(t->html));
    rc |= json_object_set_new(r, "replies", json_integer(t->replies));
    rc |= json_object_set_new(r, "retweets", json_integer(t->retweets));
    rc |= json_object_set_new(r, "urls", list(t->urls));
    rc |= json_object_set_new(r, "username", str(t->username));
    rc |= json_object_set_new(r, "photos", list(t->photos));
    rc |= json_object_set_new(r, "videos", list(t->videos));
    rc |= json_object_set_new(r, "retweeted_status_id", str(t->retweeted_status_id));
    rc |= json_object_set_new(r, "views", json_integer(t->views));
    rc |= json_object_set_new(r, "sensitive_content", json_boolean(t->sensitive_content));
    rc |= json_object_set_new(r, "author_id", str(t->author_id));
    rc |= json_object_set_new(r, "public_metrics",
                              json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
                                        "retweet_count", (json_int_t)t->retweet_count,
                                        "reply_count", (json_int_t)t->reply_count,
                                        "like_count", (json_int_t)t->like_count,
                                        "quote_count", (json_int_t)t->quote_count,
                                        "bookmark_count", (json_int_t)t->bookmark_count,
                                        "impression_count", (json_int_t)0));
    rc |= json_object_set_new(r, "possibly_sensitive", json_false());
    rc |= json_object_set_new(r, "lang", str(t->lang));
    rc |= json_object_set_new(r, "newest_id", str(t->newest_id));
    rc |= json_object_set_new(r, "oldest_id", str(t->oldest_id));
    rc |= json_object_set_new(r, "result_count", json_integer(t->result_count));
    rc |= json_object_set_new(r, "error", json_null());
    if (rc) {
        json_decref(r);
        return NULL;
    }
    return r;
}
