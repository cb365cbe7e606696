/* tiktok_transcription.h - the `transcription` operation of the `tiktok` kind
 * (tiktok-reddit-apify.md 1.2-1.9 with the changes of DECISIONS.md, TikTok).
 *
 * The worker POSTs {"url": video_url} to TIKTOK_TRANSCRIPTION_ENDPOINT, picks a transcript
 * (the requested language, else TIKTOK_DEFAULT_LANGUAGE, else the first non-empty one) and
 * answers {"transcription_text","detected_language","video_title","original_url","thumbnail_url"}
 * with the WebVTT converted to plain text (vtt.h). tiktok.c dispatches here. */
#ifndef TW_TIKTOK_TRANSCRIPTION_H
#define TW_TIKTOK_TRANSCRIPTION_H

#include <jansson.h>

#include "err.h"
#include "jobs/kind.h"

struct job;
struct fetch_response;

/* tiktok_transcription_validate: 400 "Failed to unmarshal job arguments: <reason>" or 0. */
int tiktok_transcription_validate(const json_t *arguments, struct err *e);

/* tiktok_transcription_run performs one transcription before ctx->deadline. Stats:
 * tiktok_transcription_success +1, or tiktok_transcription_errors +1 on any failure after the
 * arguments were accepted. */
int tiktok_transcription_run(const struct job *job, struct job_ctx *ctx, struct job_result *out);

/* tiktok_transcription_answer judges the service's reply resp (any status; 1.4 steps 2-5) and
 * makes the job's result from it (1.5-1.7): the transcript for language (may be ""), else
 * default_language, else the first non-blank one, as text, with original_url video_url. Returns
 * 0, or -1 with out->err 502 and the reason. */
int tiktok_transcription_answer(const struct fetch_response *resp, const char *video_url,
                                const char *language, const char *default_language,
                                struct job_result *out);

/* tiktok_pick_transcript chooses the transcript of transcripts (an object of strings) for lang,
 * then default_lang (either may be NULL or ""), then the first entry with non-blank text. Returns
 * the chosen key (borrowed from transcripts) and sets *vtt, or NULL when every entry is blank. */
const char *tiktok_pick_transcript(const json_t *transcripts, const char *lang,
                                   const char *default_lang, const json_t **vtt);

#endif
