/* twitter_web_ops.h - the fifteen operations of the credential backend (see twitter_web_ops.c
 * for the paging rules). */
#ifndef TW_TWITTER_WEB_OPS_H
#define TW_TWITTER_WEB_OPS_H

#include "kinds/twitter_backend.h"

/* tw_ops_run runs req on the account pool: 0 (out->data set, out->next_cursor when there is
 * more), -1 (out->err set), or TWITTER_BACKEND_NO_SESSION (no account could be obtained). */
int tw_ops_run(const struct twitter_request *req, struct job_ctx *ctx, struct job_result *out);

/* tw_ops_reset forgets the screen-name -> id cache (tests). */
void tw_ops_reset(void);

#endif
