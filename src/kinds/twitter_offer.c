/* twitter_offer.c - the once-decided offer of a Twitter kind (see twitter_backend.h), and the
 * argument check against it that the credential-only and API-only kinds share.
 *
 * The decision runs under the offer's mutex the first time; `ready` is then published with
 * release order, so readers that see it (acquire) also see ops[] and caps[], which never change
 * again until twitter_offer_forget (tests). */
#include "kinds/twitter_backend.h"

#include <string.h>

bool twitter_offer_decide(struct twitter_offer *o, const struct config *cfg,
                          bool (*decide)(const struct config *cfg, enum twitter_op op))
{
    if (!atomic_load_explicit(&o->ready, memory_order_acquire)) {
        pthread_mutex_lock(&o->lock);
        if (!atomic_load_explicit(&o->ready, memory_order_relaxed)) {
            size_t n = 0;
            for (int op = 0; op < TW_OP_COUNT; op++) {
                o->ops[op] = decide(cfg, (enum twitter_op)op);
                if (o->ops[op])
                    o->caps[n++] = twitter_op_name((enum twitter_op)op);
            }
            o->caps[n] = NULL;
            atomic_store_explicit(&o->ready, true, memory_order_release);
        }
        pthread_mutex_unlock(&o->lock);
    }
    return o->caps[0] != NULL;
}

void twitter_offer_forget(struct twitter_offer *o)
{
    pthread_mutex_lock(&o->lock);
    atomic_store(&o->ready, false);
    memset(o->ops, 0, sizeof o->ops);
    memset(o->caps, 0, sizeof o->caps);
    pthread_mutex_unlock(&o->lock);
}

int twitter_offer_parse(const struct twitter_offer *o, const json_t *arguments,
                        const char *job_type, const char *why_not, struct twitter_request *req,
                        struct err *e)
{
    if (twitter_args_parse(arguments, job_type, req, e) < 0)
        return -1;
    if (!o->ops[req->op])
        return err_set(e, 400, "capability '%s' is not available on this worker: %s",
                       twitter_op_name(req->op), why_not);
    return 0;
}
