/* twitter_apify_profile.c - the ProfileResultApify record (twitter.md 8.3): the follower actor's
 * items decoded Go-style (json_record.h) and re-emitted with exactly the tee-types keys. */
#include "kinds/twitter_apify.h"

#include <stdio.h>

#include "kinds/json_record.h"

static const struct record_field url_fields[] = {
    { "url", RT_STRING, NULL, false },
    { "expanded_url", RT_STRING, NULL, false },
    { "display_url", RT_STRING, NULL, false },
    { "indices", RT_INT_ARRAY, NULL, false },
};
static const struct record url_record = RECORD(url_fields);

static const struct record_field urls_fields[] = {
    { "urls", RT_OBJECT_ARRAY, &url_record, true },
};
static const struct record urls_record = RECORD(urls_fields);

static const struct record_field entities_fields[] = {
    { "url", RT_OBJECT_PTR, &urls_record, false },
    { "description", RT_OBJECT_PTR, &urls_record, false },
};
static const struct record entities_record = RECORD(entities_fields);

#define S(n) { n, RT_STRING, NULL, false }
#define SN(n) { n, RT_STRING_NULL, NULL, false }
#define I(n) { n, RT_INT, NULL, false }
#define B(n) { n, RT_BOOL, NULL, false }

static const struct record_field profile_fields[] = {
    I("id"), S("id_str"), S("name"), S("screen_name"), S("location"), S("description"), SN("url"),
    { "entities", RT_OBJECT, &entities_record, false },
    B("protected"), I("followers_count"), I("fast_followers_count"), I("normal_followers_count"),
    I("friends_count"), I("listed_count"), S("created_at"), I("favourites_count"),
    { "utc_offset", RT_INT_NULL, NULL, false }, SN("time_zone"), B("geo_enabled"), B("verified"),
    I("statuses_count"), I("media_count"), SN("lang"), B("contributors_enabled"),
    B("is_translator"), B("is_translation_enabled"), S("profile_background_color"),
    SN("profile_background_image_url"), SN("profile_background_image_url_https"),
    B("profile_background_tile"), S("profile_image_url"), S("profile_image_url_https"),
    S("profile_link_color"), S("profile_sidebar_border_color"), S("profile_sidebar_fill_color"),
    S("profile_text_color"), B("profile_use_background_image"), B("has_extended_profile"),
    B("default_profile"), B("default_profile_image"),
    { "pinned_tweet_ids", RT_INT_ARRAY, NULL, false },
    { "pinned_tweet_ids_str", RT_STRING_ARRAY, NULL, false },
    B("has_custom_timelines"), B("can_media_tag"), B("followed_by"), B("following"),
    B("live_following"), B("follow_request_sent"), B("notifications"), B("muting"), B("blocking"),
    B("blocked_by"), S("advertiser_account_type"),
    { "advertiser_account_service_levels", RT_STRING_ARRAY, NULL, false },
    S("analytics_type"), S("business_profile_state"), S("translator_type"),
    { "withheld_in_countries", RT_STRING_ARRAY, NULL, false },
    B("require_some_consent"), S("type"), S("target_username"), SN("email"),
};
static const struct record profile_record = RECORD(profile_fields);

json_t *twitter_apify_profile_decode(const json_t *raw, char *why, size_t whylen)
{
    return record_decode(&profile_record, raw, why, whylen);
}

json_t *twitter_apify_profiles_decode(const json_t *raw)
{
    return record_decode_items(raw, twitter_apify_profile_decode, "twitter-apify");
}
