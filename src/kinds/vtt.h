/* vtt.h - WebVTT subtitles to one line of plain text (the TikTok transcription result).
 *
 * DECISIONS.md (TikTok) fixes the Go converter of tiktok-reddit-apify.md 1.6: the header block
 * (WEBVTT line and its metadata), NOTE/STYLE/REGION blocks, cue identifiers and timing lines are
 * dropped; in cue text, tags (<v Bob>, <c.x>, <i>, <00:00:01.000>, ...) are removed and the text
 * between them kept; character references (&amp; &lt; &gt; &quot; &apos; &nbsp; &#NN; &#xHH;)
 * are decoded; all lines are joined, every run of whitespace becoming a single space, no leading
 * or trailing space. A document that has neither a WEBVTT header nor any "-->" is taken as plain
 * text (tags and references handled the same way). Never fails except on OOM. */
#ifndef TW_VTT_H
#define TW_VTT_H

#include <stddef.h>

/* vtt_to_text converts vtt[0..len) (may hold NULs; control bytes other than whitespace are
 * dropped) and returns a new NUL-terminated string of *out_len bytes (caller frees), or NULL on
 * OOM. The output is never longer than the input plus one byte; valid UTF-8 in gives valid UTF-8
 * out. */
char *vtt_to_text(const char *vtt, size_t len, size_t *out_len);

#endif
