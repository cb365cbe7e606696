/* tee-worker-cli.c - the command-line client of tee-worker, on libteeworker.
 *
 *   tee-worker-cli run web url=https://example.com depth=2
 *
 * Commands map to the four steps (generate, add, status, result) plus `run`, which does all of
 * them, shows progress on a terminal (elapsed time and state on stderr; nothing when stderr is
 * not a terminal), prints the result to stdout and with --next follows the job's cursor: the
 * X-Next-Cursor of each result is opened through /job/result and sent as the next job's
 * `next_cursor` argument, one result per line. The server URL and API key come from flags or
 * TEE_WORKER_URL / TEE_WORKER_API_KEY. Exit status: 0 ok, 1 failure (the server's own message on
 * stderr), 2 usage, 3 `status` of a job still pending. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli_args.h"
#include "teeworker.h"

enum { EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_PENDING = 3 };

struct cli {
    struct tw_options opts;
    struct tw_wait_options wait;
    const char *job_json;        /* --job */
    const char *args_json;       /* --args */
    bool sealed;                 /* --sealed */
    bool follow_next;            /* --next */
    unsigned max_pages;          /* --max-pages */
    int progress;                /* -1 auto (terminal), 0 off, 1 on */
    struct tw_client *client;
};

static const char usage_text[] =
    "usage: tee-worker-cli [options] <command> [arguments]\n"
    "\n"
    "commands:\n"
    "  generate TYPE [KEY=VALUE...]  seal a job; prints the signature\n"
    "  add SIGNATURE                 queue a signature (\"-\" reads it from stdin); prints the uid\n"
    "  status UID                    print the sealed result; exit 3 while the job is pending\n"
    "  result SIGNATURE SEALED       open a sealed result (either may be \"-\" for stdin)\n"
    "  run TYPE [KEY=VALUE...]       generate, add, wait and print the result\n"
    "\n"
    "KEY=VALUE: VALUE is JSON when it parses as JSON (2, true, [\"a\"], {\"k\":1}, \"text\"),\n"
    "otherwise a string: run web url=https://example.com depth=2\n"
    "\n"
    "options:\n"
    "  -u, --url URL            server URL (env TEE_WORKER_URL; default http://localhost:8080)\n"
    "  -k, --api-key KEY        API key (env TEE_WORKER_API_KEY)\n"
    "  -j, --job JSON           the whole job object instead of TYPE KEY=VALUE (generate, run)\n"
    "  -a, --args JSON          arguments object; KEY=VALUE words are added to it\n"
    "  -t, --timeout SECONDS    per-request timeout (default 60)\n"
    "      --connect-timeout SECONDS  connection timeout (default 10)\n"
    "  -r, --retries N          polls (and tries while busy: 503) before giving up (run; default 60)\n"
    "  -d, --delay MS           pause between polls in milliseconds (run; default 1000)\n"
    "  -s, --sealed             run: print the sealed result instead of opening it\n"
    "  -n, --next               run: follow next cursors, one result per line (not with --sealed)\n"
    "      --max-pages N        run --next: at most N pages (default 10)\n"
    "      --insecure           TLS: do not verify the server certificate\n"
    "      --pin-pubkey PIN     TLS: accept only this public key (sha256//BASE64, or a PEM/DER file)\n"
    "      --cacert FILE        TLS: verify against this CA bundle\n"
    "  -q, --quiet              no progress output\n"
    "  -p, --progress           progress output even when stderr is not a terminal\n"
    "  -V, --version            print the version\n"
    "  -h, --help               this help\n"
    "\n"
    "exit status: 0 ok, 1 failure (the server's message on stderr), 2 usage, 3 status: pending\n";

enum { OPT_CONNECT_TIMEOUT = 256, OPT_MAX_PAGES, OPT_INSECURE, OPT_PIN, OPT_CACERT };

static const struct option long_options[] = {
    { "url", required_argument, NULL, 'u' },
    { "api-key", required_argument, NULL, 'k' },
    { "job", required_argument, NULL, 'j' },
    { "args", required_argument, NULL, 'a' },
    { "timeout", required_argument, NULL, 't' },
    { "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },
    { "retries", required_argument, NULL, 'r' },
    { "delay", required_argument, NULL, 'd' },
    { "sealed", no_argument, NULL, 's' },
    { "next", no_argument, NULL, 'n' },
    { "max-pages", required_argument, NULL, OPT_MAX_PAGES },
    { "insecure", no_argument, NULL, OPT_INSECURE },
    { "pin-pubkey", required_argument, NULL, OPT_PIN },
    { "cacert", required_argument, NULL, OPT_CACERT },
    { "quiet", no_argument, NULL, 'q' },
    { "progress", no_argument, NULL, 'p' },
    { "version", no_argument, NULL, 'V' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

static int usage_error(const char *fmt, const char *what)
{
    fprintf(stderr, "tee-worker-cli: ");
    fprintf(stderr, fmt, what);
    fprintf(stderr, "\nTry 'tee-worker-cli --help'.\n");
    return EXIT_USAGE;
}

/* parse_count reads a positive integer up to max; returns 0 when invalid. */
static unsigned long parse_count(const char *s, unsigned long max)
{
    char *end = NULL;
    unsigned long v = strtoul(s, &end, 10);
    return (*s >= '0' && *s <= '9' && end && !*end && v <= max) ? v : 0;
}

static int parse_option(struct cli *cli, int opt, const char *arg)
{
    unsigned long v;
    switch (opt) {
    case 'u': cli->opts.url = arg; return 0;
    case 'k': cli->opts.api_key = arg; return 0;
    case 'j': cli->job_json = arg; return 0;
    case 'a': cli->args_json = arg; return 0;
    case 's': cli->sealed = true; return 0;
    case 'n': cli->follow_next = true; return 0;
    case 'q': cli->progress = 0; return 0;
    case 'p': cli->progress = 1; return 0;
    case OPT_INSECURE: cli->opts.insecure_skip_verify = true; return 0;
    case OPT_PIN: cli->opts.pinned_public_key = arg; return 0;
    case OPT_CACERT: cli->opts.ca_file = arg; return 0;
    case 't':
    case OPT_CONNECT_TIMEOUT:
        if (!(v = parse_count(arg, 86400)))
            return usage_error("bad timeout \"%s\" (seconds, 1 to 86400)", arg);
        *(opt == 't' ? &cli->opts.request_timeout_ms : &cli->opts.connect_timeout_ms) = (long)v * 1000;
        return 0;
    case 'r':
        if (!(v = parse_count(arg, 1000000)))
            return usage_error("bad --retries \"%s\" (1 to 1000000)", arg);
        cli->wait.max_attempts = (unsigned)v;
        return 0;
    case 'd':
        if (!(v = parse_count(arg, 3600000)))
            return usage_error("bad --delay \"%s\" (milliseconds, 1 to 3600000)", arg);
        cli->wait.delay_ms = (unsigned)v;
        return 0;
    case OPT_MAX_PAGES:
        if (!(v = parse_count(arg, 100000)))
            return usage_error("bad --max-pages \"%s\" (1 to 100000)", arg);
        cli->max_pages = (unsigned)v;
        return 0;
    default:
        return usage_error("%s", "unknown option");
    }
}

/* ---- output ------------------------------------------------------------------------------ */

static int report(const struct tw_error *err)
{
    if (err->http_status)
        fprintf(stderr, "tee-worker-cli: %s (HTTP %ld)\n", err->message, err->http_status);
    else
        fprintf(stderr, "tee-worker-cli: %s\n", err->message);
    return EXIT_FAIL;
}

static void print_line(const char *text)
{
    size_t n = strlen(text);
    fwrite(text, 1, n, stdout);
    if (n == 0 || text[n - 1] != '\n')
        fputc('\n', stdout);
    fflush(stdout);
}

static void show_progress(void *user, const char *state, double elapsed_s, unsigned attempt)
{
    (void)user;
    fprintf(stderr, "\r\033[K[%6.1fs] %s (poll %u)", elapsed_s, state, attempt);
    fflush(stderr);
}

static void end_progress(const struct cli *cli, const char *final_state)
{
    if (cli->wait.progress)
        fprintf(stderr, "\r\033[K%s\n", final_state);
}

/* ---- commands ----------------------------------------------------------------------------- */

/* job_text builds the job JSON from --job, or TYPE + --args + KEY=VALUE words (malloc'd). */
static char *job_text(const struct cli *cli, char **words, int count, const char *cursor)
{
    json_t *job = NULL;
    char why[256] = "";
    if (cli->job_json) {
        json_error_t jerr;
        job = json_loads(cli->job_json, 0, &jerr);
        if (!json_is_object(job))
            snprintf(why, sizeof why, "--job is not a JSON object: %s", jerr.text);
        else if (count)
            snprintf(why, sizeof why, "give either --job or TYPE KEY=VALUE, not both");
    } else if (count < 1) {
        snprintf(why, sizeof why, "missing the job TYPE");
    } else {
        json_t *type = json_string(words[0]);   /* NULL when not UTF-8, all JSON can carry */
        json_t *args = type ? cli_job_arguments(cli->args_json, words + 1, count - 1, why,
                                                sizeof why)
                            : NULL;
        if (!type)
            snprintf(why, sizeof why, "the job TYPE is not valid UTF-8");
        if (args)
            job = json_pack("{s:O,s:o}", "type", type, "arguments", args);
        json_decref(type);
    }
    if (job && !why[0] && cursor) {
        json_t *args = json_object_get(job, "arguments");
        if (!json_is_object(args))
            json_object_set_new(job, "arguments", args = json_object());
        json_object_set_new(args, "next_cursor", json_string(cursor));
    }
    char *text = job && !why[0] ? json_dumps(job, JSON_COMPACT) : NULL;
    json_decref(job);
    if (!text)
        fprintf(stderr, "tee-worker-cli: %s\n", why[0] ? why : "out of memory");
    return text;
}

static int cmd_generate(struct cli *cli, char **words, int count)
{
    char *job = job_text(cli, words, count, NULL);
    if (!job)
        return EXIT_USAGE;
    struct tw_error err;
    char *sig = NULL;
    int rc = tw_generate(cli->client, job, &sig, &err);
    free(job);
    if (rc != TW_OK)
        return report(&err);
    print_line(sig);
    free(sig);
    return 0;
}

static int cmd_add(struct cli *cli, char **words, int count)
{
    if (count != 1)
        return usage_error("%s", "add takes one SIGNATURE (or \"-\")");
    char *sig = cli_read_word(words[0]);
    if (!sig)
        return usage_error("%s", "cannot read the signature from stdin");
    struct tw_error err;
    char *uid = NULL;
    int rc = tw_submit(cli->client, sig, &uid, &err);
    free(sig);
    if (rc != TW_OK)
        return report(&err);
    print_line(uid);
    free(uid);
    return 0;
}

static int cmd_status(struct cli *cli, char **words, int count)
{
    if (count != 1)
        return usage_error("%s", "status takes one UID");
    struct tw_error err;
    struct tw_status_info info;
    int rc = tw_status(cli->client, words[0], &info, &err);
    if (rc == TW_PENDING) {
        fprintf(stderr, "tee-worker-cli: job %s is %s\n", words[0], info.state);
        tw_status_info_clear(&info);
        return EXIT_PENDING;
    }
    if (rc != TW_OK)
        return report(&err);
    print_line(info.sealed_result);
    if (info.sealed_cursor)
        fprintf(stderr, "next cursor (sealed): %s\n", info.sealed_cursor);
    tw_status_info_clear(&info);
    return 0;
}

static int cmd_result(struct cli *cli, char **words, int count)
{
    if (count != 2)
        return usage_error("%s", "result takes SIGNATURE and SEALED");
    if (strcmp(words[0], "-") == 0 && strcmp(words[1], "-") == 0)
        return usage_error("%s", "only one of SIGNATURE and SEALED may be \"-\"");
    char *sig = cli_read_word(words[0]);
    char *sealed = sig ? cli_read_word(words[1]) : NULL;
    int rc = EXIT_USAGE;
    if (sig && sealed) {
        struct tw_error err;
        char *clear = NULL;
        rc = tw_decrypt(cli->client, sig, sealed, &clear, NULL, &err) == TW_OK ? 0 : report(&err);
        if (clear)
            print_line(clear);
        free(clear);
    } else {
        fprintf(stderr, "tee-worker-cli: cannot read stdin\n");
    }
    free(sig);
    free(sealed);
    return rc;
}

/* run_page runs one job (with cursor as next_cursor when not NULL); prints its result and
 * returns its clear next cursor in *next (NULL when none or --sealed). */
static int run_page(struct cli *cli, char **words, int count, const char *cursor, char **next)
{
    *next = NULL;
    char *job = job_text(cli, words, count, cursor);
    if (!job)
        return EXIT_USAGE;
    struct tw_error err;
    char *sig = NULL, *uid = NULL, *result = NULL;
    int rc = tw_generate(cli->client, job, &sig, &err);
    free(job);
    if (rc == TW_OK)
        rc = tw_submit_when_free(cli->client, sig, &cli->wait, &uid, &err);
    if (rc == TW_OK)
        rc = tw_get_result(cli->client, sig, uid, &cli->wait, !cli->sealed, &result,
                           cli->follow_next && !cli->sealed ? next : NULL, &err);
    end_progress(cli, rc == TW_OK ? "done" : "failed");
    if (rc == TW_OK)
        print_line(result);
    free(sig);
    free(uid);
    free(result);
    if (rc != TW_OK)
        return report(&err);
    json_t *cursor_text = *next ? json_string(*next) : NULL;
    if (*next && !cursor_text) {
        /* it cannot be sent as the next job's argument: dropping it would start over */
        fprintf(stderr, "tee-worker-cli: the next cursor from the server is not valid UTF-8\n");
        free(*next);
        *next = NULL;
        return EXIT_FAIL;
    }
    json_decref(cursor_text);
    return 0;
}

static int cmd_run(struct cli *cli, char **words, int count)
{
    char *cursor = NULL;
    int rc = 0;
    for (unsigned page = 0; page < cli->max_pages; page++) {
        char *next = NULL;
        rc = run_page(cli, words, count, cursor, &next);
        free(cursor);
        cursor = next;
        if (rc != 0 || !cli->follow_next || !cursor || !*cursor)
            break;
    }
    free(cursor);
    return rc;
}

/* ---- main --------------------------------------------------------------------------------- */

static int dispatch(struct cli *cli, const char *command, char **words, int count)
{
    static const struct {
        const char *name;
        int (*fn)(struct cli *, char **, int);
    } commands[] = {
        { "generate", cmd_generate }, { "add", cmd_add }, { "status", cmd_status },
        { "result", cmd_result },     { "run", cmd_run },
    };
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(command, commands[i].name) == 0)
            return commands[i].fn(cli, words, count);
    return usage_error("unknown command \"%s\"", command);
}

static void defaults(struct cli *cli)
{
    memset(cli, 0, sizeof *cli);
    const char *url = getenv("TEE_WORKER_URL");
    const char *key = getenv("TEE_WORKER_API_KEY");
    cli->opts.url = url && *url ? url : "http://localhost:8080";
    cli->opts.api_key = key && *key ? key : NULL;
    cli->opts.user_agent = "tee-worker-cli/" TW_CLIENT_VERSION;
    cli->max_pages = 10;
    cli->progress = -1;
}

int main(int argc, char **argv)
{
    struct cli cli;
    defaults(&cli);
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "u:k:j:a:t:r:d:snqpVh", long_options, NULL)) != -1) {
        if (opt == 'h') {
            fputs(usage_text, stdout);
            return 0;
        }
        if (opt == 'V') {
            printf("tee-worker-cli %s\n", TW_CLIENT_VERSION);
            return 0;
        }
        if (opt == '?' || opt == ':') {
            /* a short option inside a cluster ("-xs") is named by optopt: optind has not moved
             * past its word yet, so argv[optind - 1] is the word before it */
            const char *word = argv[optind - 1];
            char shown[3] = { '-', (char)optopt, '\0' };
            return usage_error("bad or incomplete option \"%s\"",
                               optopt > 0 && optopt < 256 && strncmp(word, "--", 2) != 0 ? shown
                                                                                       : word);
        }
        if (parse_option(&cli, opt, optarg) != 0)
            return EXIT_USAGE;
    }
    if (optind >= argc)
        return usage_error("%s", "missing the command");
    if (cli.progress == 1 || (cli.progress == -1 && isatty(STDERR_FILENO)))
        cli.wait.progress = show_progress;
    struct tw_error err;
    cli.client = tw_client_new(&cli.opts, &err);
    if (!cli.client)
        return report(&err);
    int rc = dispatch(&cli, argv[optind], argv + optind + 1, argc - optind - 1);
    tw_client_free(cli.client);
    return rc;
}
