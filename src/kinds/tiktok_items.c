/* tiktok_items.c - the record tables of the two TikTok search actors (tiktok-reddit-apify.md 1.10):
 * epctex~tiktok-search-scraper (query) and lexis-solutions~tiktok-trending-videos-scraper
 * (trending). Items are decoded Go-style (json_record.h); one that does not fit is dropped. */
#include "kinds/tiktok_search.h"

#include "kinds/json_record.h"

#define S(n) { n, RT_STRING, NULL, false }
#define I(n) { n, RT_INT, NULL, false }
#define F(n) { n, RT_FLOAT, NULL, false }
#define B(n) { n, RT_BOOL, NULL, false }
#define A(n) { n, RT_ANY_ARRAY, NULL, false }
#define SA(n) { n, RT_STRING_ARRAY, NULL, false }
#define O(n, r) { n, RT_OBJECT, &r, false }
#define OA(n, r) { n, RT_OBJECT_ARRAY, &r, false }

static const struct record_field play_addr_fields[] = {
    S("Uri"), SA("UrlList"), S("DataSize"), S("UrlKey"), S("FileHash"), S("FileCs"),
};
static const struct record play_addr = RECORD(play_addr_fields);

static const struct record_field bitrate_info_fields[] = {
    S("GearName"), I("bitrate"), I("QualityType"), O("PlayAddr", play_addr), S("CodecType"),
};
static const struct record bitrate_info = RECORD(bitrate_info_fields);

static const struct record_field zoom_cover_fields[] = { S("240"), S("480"), S("720"), S("960") };
static const struct record zoom_cover = RECORD(zoom_cover_fields);

static const struct record_field volume_info_fields[] = { F("Loudness"), F("Peak") };
static const struct record volume_info = RECORD(volume_info_fields);

static const struct record_field video_fields[] = {
    S("id"), I("height"), I("width"), I("duration"), S("ratio"), S("cover"), S("origin_cover"),
    S("dynamic_cover"), S("play_addr"), S("download_addr"), SA("share_cover"), S("reflowCover"),
    I("bitrate"), S("encodedType"), S("format"), S("videoQuality"), S("encodeUserTag"),
    S("codecType"), S("definition"), A("subtitleInfos"), O("zoomCover", zoom_cover),
    O("volumeInfo", volume_info), OA("bitrateInfo", bitrate_info),
};
static const struct record video = RECORD(video_fields);

static const struct record_field music_fields[] = {
    S("id"), S("title"), S("playUrl"), S("coverLarge"), S("coverMedium"), S("coverThumb"),
    S("authorName"), B("original"), I("duration"), S("album"), I("scheduleSearchTime"),
};
static const struct record music = RECORD(music_fields);

static const struct record_field stats_fields[] = {
    I("diggCount"), I("shareCount"), I("commentCount"), I("playCount"),
};
static const struct record stats = RECORD(stats_fields);

static const struct record_field duet_info_fields[] = { S("duetFromId") };
static const struct record duet_info = RECORD(duet_info_fields);

static const struct record_field text_extra_fields[] = {
    S("awemeId"), I("start"), I("end"), S("hashtagId"), S("hashtagName"), I("type"),
    I("subType"), S("userId"), B("isCommerce"), S("userUniqueId"), S("secUid"),
};
static const struct record text_extra = RECORD(text_extra_fields);

static const struct record_field author_stats_fields[] = {
    I("followerCount"), I("followingCount"), I("heart"), I("heartCount"), I("videoCount"),
    I("diggCount"),
};
static const struct record author_stats = RECORD(author_stats_fields);

static const struct record_field query_fields[] = {
    S("url"), S("id"), S("desc"), S("createTime"), I("scheduleTime"), O("video", video),
    S("author"), O("music", music), A("challenges"), O("stats", stats), B("isActivityItem"),
    O("duetInfo", duet_info), A("warnInfo"), B("originalItem"), B("officalItem"),
    OA("textExtra", text_extra), B("secret"), B("forFriend"), B("digged"),
    I("itemCommentStatus"), B("showNotPass"), B("vl1"), I("takeDown"), B("itemMute"),
    A("effectStickers"), O("authorStats", author_stats), B("privateItem"), B("duetEnabled"),
    B("stitchEnabled"), A("stickersOnItem"), B("isAd"), B("shareEnabled"), A("comments"),
    I("duetDisplay"), I("stitchDisplay"), B("indexEnabled"), SA("diversificationLabels"),
    B("adAuthorization"), I("adLabelVersion"), S("locationCreated"), S("nickname"),
    S("authorId"), S("authorSecId"), S("avatarThumb"), I("downloadSetting"), B("authorPrivate"),
};
static const struct record query_record = RECORD(query_fields);

static const struct record_field trending_fields[] = {
    S("country_code"), S("cover"), I("duration"), S("id"), S("item_id"), S("item_url"),
    S("region"), S("title"),
};
static const struct record trending_record = RECORD(trending_fields);

json_t *tiktok_query_item_decode(const json_t *raw, char *why, size_t whylen)
{
    return record_decode(&query_record, raw, why, whylen);
}

json_t *tiktok_trending_item_decode(const json_t *raw, char *why, size_t whylen)
{
    return record_decode(&trending_record, raw, why, whylen);
}
