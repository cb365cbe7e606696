/* twitter_web_login.h - password login through X's onboarding task flow, best effort
 * (twitter.md 5.4, twitter-modern.md 2.3-2.4, DECISIONS.md "cookie accounts are primary").
 *
 * A guest token first (POST {TWITTER_LOGIN_BASE}/1.1/guest/activate.json), then
 * POST {TWITTER_LOGIN_BASE}/1.1/onboarding/task.json?flow_name=login and one POST per subtask X
 * asks for, TWITTER_LOGIN_STEP_DELAY_MS apart:
 *   LoginJsInstrumentationSubtask        answered "{}" (no JS engine here; X may answer 399)
 *   LoginEnterUserIdentifierSSO          the user name
 *   LoginEnterAlternateIdentifierSubtask the user name again (X's "unusual activity" challenge)
 *   LoginEnterPassword                   the password
 *   AccountDuplicationCheck              AccountDuplicationCheck_false
 *   LoginTwoFactorAuthChallenge          the TOTP code of the account's secret (RFC 6238), if any
 *   LoginSuccessSubtask / no subtask     done: the cookies auth_token and ct0 must be set
 * and the flow fails with the reason on: an `errors` answer ("auth error (<code>): <message>",
 * e.g. a wrong password or 399), LoginAcid (X wants the account's e-mail or an e-mailed code),
 * DenyLoginSubtask, ArkoseLogin (captcha), an unknown subtask, a non-JSON answer, or more than
 * TW_LOGIN_MAX_STEPS steps. X rate-limiting the flow (429 / code 88, on the guest token or a
 * step) is not a refusal: it fails with 429 and the cool-down its headers ask for
 * (x-rate-limit-reset, else Retry-After, else 15 min). The password and codes are never logged,
 * and every copy of them the flow makes is wiped before it is freed (tw_login_secret_body). */
#ifndef TW_TWITTER_WEB_LOGIN_H
#define TW_TWITTER_WEB_LOGIN_H

#include <stddef.h>
#include <time.h>

#include "err.h"
#include "kinds/twitter_cookies.h"

struct config;
struct job_ctx;
struct tw_account;

#define TW_LOGIN_MAX_STEPS 12

/* tw_login logs account a in; on success *jar holds the session cookies (auth_token, ct0, ...).
 * Returns 0, or -1 with e set: 504 when the job's deadline ran out, 429 when X rate-limited the
 * flow (*rest_s, may be NULL, then holds the seconds to wait), 401 when X refused the login,
 * 502 for transport trouble or answers that make no sense. */
int tw_login(const struct config *cfg, const struct job_ctx *ctx, const struct tw_account *a,
             struct twitter_jar *jar, long *rest_s, struct err *e);

/* tw_login_secret_body: the flow body answering subtask `subtask` of flow `flow_token` with a
 * secret (the password, a TOTP code):
 *     {"flow_token":…,"subtask_inputs":[{"subtask_id":…,"<key>":{"<field>":secret,"link":"next_link"}}]}
 * the text json_dumps(…, JSON_COMPACT) makes of it, but written straight into one allocation of
 * its exact size, so that no copy of the secret is left in freed memory (a JSON library would
 * keep one in its string value and in the buffer it grows). The caller wipes and frees it
 * (crypto_free_text). NULL on OOM or when a string is not valid UTF-8. */
char *tw_login_secret_body(const char *flow_token, const char *subtask, const char *key,
                           const char *field, const char *secret);

/* tw_totp writes the 6-digit RFC 6238 code (HMAC-SHA1, 30 s steps) of the base32 secret at
 * Unix time now into out. Returns 0, or -1 when the secret is not base32 (spaces and '='
 * padding are ignored, letters of either case accepted). */
int tw_totp(const char *secret, time_t now, char out[7]);

#endif
