/* slicectl key gen, pkg build|sign, repo init|add|rotate|signers: making
 * keys, packages and repositories. Local files only; nothing here talks to
 * sliced. Formats: docs/store.md. */
#include <errno.h>
#include <sodium.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/pkg.h"
#include "lib/cleanup.h"
#include "store/build.h"
#include "store/tuf.h"
#include "store/util.h"

#define PKG_FILE_MAX      (ST_MANIFEST_MAX_BYTES * 2) /* base64 + signatures */
#define REPO_KEYS_MAX     16                          /* per role on one command line */
#define DEFAULT_EXPIRES_S (365L * 24 * 3600)          /* a year, as TUF's root default */

static const char *const role_names[4] = {"root", "targets", "snapshot", "timestamp"};

static const char pkg_usage[] =
    "Usage: slicectl pkg COMMAND [OPTIONS] ...\n"
    "\n"
    "Making packages (local files):\n"
    "  build DIR [-o OUT]          DIR/package.json + archives -> OUT/NAME@VERSION.pkg\n"
    "  sign --key KEY PKG...       add KEY's signature to each .pkg file\n"
    "\n"
    "The store (through sliced's API, or with --store DIR directly):\n"
    "  install NAME[@VERSION]...   install from the trusted repository\n"
    "  remove NAME[@VERSION]...    a new generation without them\n"
    "  list [--generations]        packages of the current generation, or generations\n"
    "  rollback [GENERATION]       make a kept generation current again\n"
    "  gc [--keep N]               remove what no kept generation or running slice uses\n"
    "  verify                      rehash the store and report corruption\n"
    "  audit [--osv FILE]          running slices -> packages -> archives (+ advisories)\n"
    "\n"
    "`slicectl pkg COMMAND --help` describes a command.\n";

static const char repo_usage[] =
    "Usage: slicectl repo COMMAND REPO [OPTIONS] ...\n"
    "\n"
    "Publishing into a repository folder (serve it over file://, http:// or https://):\n"
    "  init REPO --key ROLE=KEY... [--threshold ROLE=N]... [--expires WHEN]\n"
    "        create REPO: root version 1 and empty targets, snapshot, timestamp.\n"
    "        ROLE is root, targets, snapshot or timestamp; each KEY (a .key file)\n"
    "        is one of that role's keys and signs. Every role needs a key.\n"
    "  add REPO --key ROLE=KEY... [--expires WHEN] [PKG...]\n"
    "        publish .pkg files (archives from archives/ beside each) as new targets,\n"
    "        snapshot and timestamp; with no PKG, re-sign them (against freeze).\n"
    "  rotate REPO --sign KEY... --key ROLE=KEY... [--threshold ROLE=N]... [--expires WHEN]\n"
    "        write the next root version with these roles, signed by the current\n"
    "        root keys (--sign) and the new root keys; re-sign snapshot/timestamp.\n"
    "  signers REPO NAME --signer PUB... [--threshold N] --key ROLE=KEY... [--expires WHEN]\n"
    "        set who must sign package NAME (or `*`: any package without its own).\n"
    "\n"
    "WHEN is a duration (30d, 12h, 90m, 3600s) from now, or a time like\n"
    "2027-01-31T00:00:00Z; default 365d. Exit status: 0 ok; 1 failed; 2 usage.\n";

static const char key_usage[] =
    "Usage: slicectl key gen [--force] NAME\n"
    "\n"
    "Make an Ed25519 key pair: NAME.key (secret, mode 0600: keep it offline) and\n"
    "NAME.pub. --force overwrites existing files.\n";

static int fail(const char *what, const struct sl_error *err)
{
        fprintf(stderr, "slicectl %s: %s\n", what, err->msg);
        return CLI_EXIT_FAIL;
}

static int usage_err(const char *what, const char *fmt, const char *arg)
    __attribute__((format(printf, 2, 0)));
static int usage_err(const char *what, const char *fmt, const char *arg)
{
        fprintf(stderr, "slicectl %s: ", what);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        fprintf(stderr, fmt, arg); /* fmt: a literal at every call, one %s */
#pragma GCC diagnostic pop
        fprintf(stderr, " (see `slicectl %s --help`)\n", what);
        return CLI_EXIT_USAGE;
}

static int is_help(const char *a)
{
        return !strcmp(a, "-h") || !strcmp(a, "--help");
}

/* ---- key gen ---- */

static int key_gen(int argc, char **argv)
{
        int force = 0;
        const char *name = NULL;
        for (int i = 0; i < argc; i++) {
                if (is_help(argv[i])) {
                        fputs(key_usage, stdout);
                        return CLI_EXIT_OK;
                } else if (!strcmp(argv[i], "--force")) {
                        force = 1;
                } else if (argv[i][0] == '-' || name) {
                        return usage_err("key gen", "unexpected argument '%s'", argv[i]);
                } else {
                        name = argv[i];
                }
        }
        if (!name)
                return usage_err("key gen", "%s", "no NAME given");
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s.key", name);
        if (!force && access(path, F_OK) == 0)
                return usage_err("key gen", "`%s` exists (use --force to replace it)", path);
        if (force) { /* st_keyfile_write never replaces a key: make room */
                char pub[PATH_MAX];
                snprintf(pub, sizeof pub, "%s.pub", name);
                if ((unlink(path) < 0 && errno != ENOENT) || (unlink(pub) < 0 && errno != ENOENT)) {
                        fprintf(stderr, "slicectl key gen: remove `%s`: %s\n", path,
                                strerror(errno));
                        return CLI_EXIT_FAIL;
                }
        }
        uint8_t pk[ST_PK_BYTES], sk[ST_SK_BYTES];
        struct sl_error err = {0};
        if (st_key_gen(pk, sk, &err) < 0 || st_keyfile_write(name, pk, sk, &err) < 0)
                return fail("key gen", &err);
        char hex[2 * ST_PK_BYTES + 1];
        st_hex_encode(pk, sizeof pk, hex);
        sodium_memzero(sk, sizeof sk);
        printf("%s.key (secret) and %s.pub: %s\n", name, name, hex);
        return CLI_EXIT_OK;
}

int cli_key(struct cli_ctx *ctx, int argc, char **argv)
{
        (void)ctx;
        if (argc < 2 || is_help(argv[1])) {
                fputs(key_usage, argc < 2 ? stderr : stdout);
                return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
        }
        if (strcmp(argv[1], "gen"))
                return usage_err("key", "unknown command '%s'", argv[1]);
        return key_gen(argc - 2, argv + 2);
}

/* ---- pkg build, pkg sign ---- */

static int pkg_build(int argc, char **argv)
{
        const char *dir = NULL, *out = ".";
        for (int i = 0; i < argc; i++) {
                if (is_help(argv[i])) {
                        fputs(pkg_usage, stdout);
                        return CLI_EXIT_OK;
                } else if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) {
                        if (++i == argc)
                                return usage_err("pkg build", "option '%s' needs a value",
                                                 argv[i - 1]);
                        out = argv[i];
                } else if (argv[i][0] == '-' || dir) {
                        return usage_err("pkg build", "unexpected argument '%s'", argv[i]);
                } else {
                        dir = argv[i];
                }
        }
        if (!dir)
                return usage_err("pkg build", "%s", "no package directory given");
        char pkg[PATH_MAX];
        struct sl_error err = {0};
        if (st_pkg_build(dir, out, pkg, sizeof pkg, &err) < 0)
                return fail("pkg build", &err);
        puts(pkg);
        return CLI_EXIT_OK;
}

static int sign_one(const char *path, const uint8_t sk[ST_SK_BYTES], struct sl_error *err)
{
        _cleanup_buf_ struct st_buf b = {0};
        struct st_envelope env = {0};
        struct st_manifest m = {0};
        if (st_read_file(path, PKG_FILE_MAX, &b, err) < 0)
                return -1;
        if (st_envelope_parse(b.data, b.len, &env, err) < 0)
                return sl_error_prefix(err, "`%s`", path);
        /* Sign only what is a manifest: a signature is a promise about it. */
        int rc = st_manifest_parse(env.signed_bytes.data, env.signed_bytes.len, &m, err);
        st_manifest_free(&m);
        _cleanup_free_ char *text = NULL;
        if (rc == 0 && st_envelope_sign(&env, sk, err) == 0 &&
            (text = st_envelope_encode(&env, err)) != NULL)
                rc = st_write_atomic(path, text, strlen(text), 0644, err);
        else
                rc = -1;
        st_envelope_free(&env);
        return rc < 0 ? sl_error_prefix(err, "`%s`", path) : 0;
}

static int pkg_sign(int argc, char **argv)
{
        const char *key = NULL;
        int first = -1;
        for (int i = 0; i < argc; i++) {
                if (is_help(argv[i])) {
                        fputs(pkg_usage, stdout);
                        return CLI_EXIT_OK;
                } else if (!strcmp(argv[i], "--key")) {
                        if (++i == argc)
                                return usage_err("pkg sign", "%s", "option '--key' needs a value");
                        key = argv[i];
                } else if (argv[i][0] == '-') {
                        return usage_err("pkg sign", "unknown option '%s'", argv[i]);
                } else if (first < 0) {
                        first = i;
                }
        }
        if (!key)
                return usage_err("pkg sign", "%s", "--key KEY is required");
        if (first < 0)
                return usage_err("pkg sign", "%s", "no .pkg file given");
        uint8_t pk[ST_PK_BYTES], sk[ST_SK_BYTES];
        struct sl_error err = {0};
        if (st_keyfile_read_secret(key, pk, sk, &err) < 0)
                return fail("pkg sign", &err);
        int code = CLI_EXIT_OK;
        for (int i = first; i < argc; i++) {
                if (!strcmp(argv[i], "--key")) {
                        i++;
                        continue;
                }
                if (sign_one(argv[i], sk, &err) < 0)
                        code = fail("pkg sign", &err);
                else
                        printf("signed %s\n", argv[i]);
        }
        sodium_memzero(sk, sizeof sk);
        return code;
}

int cli_pkg(struct cli_ctx *ctx, int argc, char **argv)
{
        if (argc < 2 || is_help(argv[1])) {
                fputs(pkg_usage, argc < 2 ? stderr : stdout);
                return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
        }
        if (!strcmp(argv[1], "build"))
                return pkg_build(argc - 2, argv + 2);
        if (!strcmp(argv[1], "sign"))
                return pkg_sign(argc - 2, argv + 2);
        char cmd[32];
        snprintf(cmd, sizeof cmd, "pkg %s", argv[1]);
        ctx->cmd = cmd;
        int code = cli_pkg_store(ctx, argv[1], argc - 1, argv + 1);
        if (code == -1)
                return usage_err("pkg", "unknown command '%s'", argv[1]);
        return code;
}

/* ---- repo ---- */

struct repo_args {
        const char *what; /* "repo init", for messages */
        const char *dir;
        const char *name; /* signers: the package name */
        uint8_t sk[4][REPO_KEYS_MAX][ST_SK_BYTES];
        uint8_t pk[4][REPO_KEYS_MAX][ST_PK_BYTES];
        size_t n[4];
        uint8_t sign_sk[REPO_KEYS_MAX][ST_SK_BYTES]; /* rotate: the current root keys */
        size_t n_sign;
        uint8_t signer_pk[REPO_KEYS_MAX][ST_PK_BYTES];
        size_t n_signers;
        unsigned threshold[4];
        unsigned signers_threshold;
        time_t expires;
        char **pkgs;
        size_t n_pkgs;
};

static void repo_args_wipe(struct repo_args *a)
{
        sodium_memzero(a->sk, sizeof a->sk);
        sodium_memzero(a->sign_sk, sizeof a->sign_sk);
}

static int role_index(const char *name, size_t len)
{
        for (int i = 0; i < 4; i++)
                if (strlen(role_names[i]) == len && !strncmp(name, role_names[i], len))
                        return i;
        return -1;
}

static int parse_when(const char *s, time_t *out, struct sl_error *err)
{
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (!errno && end != s && v > 0 && end[0] && !end[1] && strchr("dhms", end[0])) {
                static const long unit[] = {['d'] = 86400, ['h'] = 3600, ['m'] = 60, ['s'] = 1};
                *out = time(NULL) + (time_t)(v * unit[(unsigned char)end[0]]);
                return 0;
        }
        return st_time_parse(s, out, "--expires", err);
}

static int parse_unsigned(const char *s, unsigned *out)
{
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno || *end || !*s || v == 0 || v > REPO_KEYS_MAX || s[0] == '-')
                return -1;
        *out = (unsigned)v;
        return 0;
}

static int repo_opt(struct repo_args *a, const char *opt, const char *val)
{
        struct sl_error err = {0};
        const char *eq = strchr(val, '=');
        if (!strcmp(opt, "--key") || !strcmp(opt, "--threshold")) {
                int r = eq ? role_index(val, (size_t)(eq - val)) : -1;
                if (r < 0)
                        return usage_err(a->what,
                                         "`%s` is not ROLE=VALUE (root, targets, "
                                         "snapshot, timestamp)",
                                         val);
                if (!strcmp(opt, "--threshold"))
                        return parse_unsigned(eq + 1, &a->threshold[r]) < 0
                                   ? usage_err(a->what, "threshold `%s` is not 1..16", val)
                                   : 0;
                if (a->n[r] == REPO_KEYS_MAX)
                        return usage_err(a->what, "more than 16 keys for `%s`", val);
                if (st_keyfile_read_secret(eq + 1, a->pk[r][a->n[r]], a->sk[r][a->n[r]], &err) < 0)
                        return fail(a->what, &err);
                a->n[r]++;
                return 0;
        }
        if (!strcmp(opt, "--sign")) {
                uint8_t pk[ST_PK_BYTES];
                if (a->n_sign == REPO_KEYS_MAX)
                        return usage_err(a->what, "more than 16 keys at `%s`", val);
                if (st_keyfile_read_secret(val, pk, a->sign_sk[a->n_sign], &err) < 0)
                        return fail(a->what, &err);
                a->n_sign++;
                return 0;
        }
        if (!strcmp(opt, "--signer")) {
                if (a->n_signers == REPO_KEYS_MAX)
                        return usage_err(a->what, "more than 16 signers at `%s`", val);
                if (st_keyfile_read_public(val, a->signer_pk[a->n_signers], &err) < 0)
                        return fail(a->what, &err);
                a->n_signers++;
                return 0;
        }
        if (!strcmp(opt, "--expires"))
                return parse_when(val, &a->expires, &err) < 0
                           ? (fail(a->what, &err), CLI_EXIT_USAGE)
                           : 0;
        return usage_err(a->what, "unknown option '%s'", opt);
}

static int repo_parse(struct repo_args *a, int argc, char **argv, int want_name)
{
        a->expires = time(NULL) + DEFAULT_EXPIRES_S;
        for (int i = 0; i < argc; i++) {
                const char *arg = argv[i];
                if (is_help(arg)) {
                        fputs(repo_usage, stdout);
                        return -1;
                }
                if (arg[0] == '-') {
                        if (!strcmp(arg, "--threshold") && want_name && i + 1 < argc &&
                            !strchr(argv[i + 1], '=')) {
                                if (parse_unsigned(argv[++i], &a->signers_threshold) < 0)
                                        return usage_err(a->what, "threshold `%s` is not 1..16",
                                                         argv[i]);
                                continue;
                        }
                        if (i + 1 == argc)
                                return usage_err(a->what, "option '%s' needs a value", arg);
                        int code = repo_opt(a, arg, argv[++i]);
                        if (code)
                                return code;
                } else if (!a->dir) {
                        a->dir = arg;
                } else if (want_name && !a->name) {
                        a->name = arg;
                } else {
                        a->pkgs[a->n_pkgs++] = argv[i];
                }
        }
        if (!a->dir)
                return usage_err(a->what, "%s", "no repository folder given");
        if (want_name && !a->name)
                return usage_err(a->what, "%s", "no package NAME given");
        return 0;
}

/* The keys of the command line as the writer wants them. */
static void repo_keys(struct repo_args *a, struct st_repo_keys *k, int root_from_sign)
{
        static uint8_t both[2 * REPO_KEYS_MAX][ST_SK_BYTES];
        size_t n = 0;
        if (root_from_sign) { /* rotation: old root keys, then the new ones */
                for (size_t i = 0; i < a->n_sign; i++)
                        memcpy(both[n++], a->sign_sk[i], ST_SK_BYTES);
                for (size_t i = 0; i < a->n[0]; i++)
                        memcpy(both[n++], a->sk[0][i], ST_SK_BYTES);
                k->root = (const uint8_t(*)[ST_SK_BYTES])both;
                k->n_root = n;
        } else {
                k->root = (const uint8_t(*)[ST_SK_BYTES])a->sk[0];
                k->n_root = a->n[0];
        }
        k->targets = (const uint8_t(*)[ST_SK_BYTES])a->sk[1];
        k->n_targets = a->n[1];
        k->snapshot = (const uint8_t(*)[ST_SK_BYTES])a->sk[2];
        k->n_snapshot = a->n[2];
        k->timestamp = (const uint8_t(*)[ST_SK_BYTES])a->sk[3];
        k->n_timestamp = a->n[3];
}

/* init and rotate: the roles from --key and --threshold. */
static int repo_roles(struct repo_args *a, struct st_repo_init *init,
                      struct st_key keys[4][REPO_KEYS_MAX])
{
        for (int r = 0; r < 4; r++) {
                if (!a->n[r])
                        return usage_err(a->what, "no key for the %s role (--key ROLE=KEY)",
                                         role_names[r]);
                unsigned t = a->threshold[r] ? a->threshold[r] : 1;
                if (t > a->n[r])
                        return usage_err(a->what, "threshold of %s above its number of keys",
                                         role_names[r]);
                for (size_t i = 0; i < a->n[r]; i++) {
                        memset(&keys[r][i], 0, sizeof keys[r][i]);
                        memcpy(keys[r][i].pk, a->pk[r][i], ST_PK_BYTES);
                }
                init->roles[r] =
                    (struct st_role){.keys = keys[r], .n_keys = a->n[r], .threshold = t};
        }
        init->expires = a->expires;
        return 0;
}

int cli_repo(struct cli_ctx *ctx, int argc, char **argv)
{
        (void)ctx;
        if (argc < 2 || is_help(argv[1])) {
                fputs(repo_usage, argc < 2 ? stderr : stdout);
                return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
        }
        const char *sub = argv[1];
        if (strcmp(sub, "init") && strcmp(sub, "add") && strcmp(sub, "rotate") &&
            strcmp(sub, "signers"))
                return usage_err("repo", "unknown command '%s'", sub);
        char what[32];
        snprintf(what, sizeof what, "repo %s", sub);
        struct repo_args *a = calloc(1, sizeof *a);
        char **pkgs = calloc((size_t)argc, sizeof *pkgs);
        if (!a || !pkgs) {
                free(a);
                free(pkgs);
                return CLI_EXIT_FAIL;
        }
        a->what = what;
        a->pkgs = pkgs;
        int code = repo_parse(a, argc - 2, argv + 2, !strcmp(sub, "signers"));
        struct sl_error err = {0};
        struct st_repo_keys k = {0};
        struct st_repo_init init = {0};
        static struct st_key keys[4][REPO_KEYS_MAX];
        if (code < 0) {
                code = CLI_EXIT_OK; /* --help */
        } else if (code == 0 && a->n_pkgs && strcmp(sub, "add")) {
                code = usage_err(what, "unexpected argument '%s'", a->pkgs[0]);
        } else if (code == 0 && !strcmp(sub, "init")) {
                repo_keys(a, &k, 0);
                if ((code = repo_roles(a, &init, keys)) == 0) {
                        code = st_repo_init(a->dir, &init, &k, &err) < 0 ? fail(what, &err) : 0;
                        if (!code)
                                printf("repository %s: root version 1\n", a->dir);
                }
        } else if (code == 0 && !strcmp(sub, "add")) {
                repo_keys(a, &k, 0);
                code = st_repo_add(a->dir, (const char *const *)a->pkgs, a->n_pkgs, a->expires, &k,
                                   &err) < 0
                           ? fail(what, &err)
                           : 0;
                for (size_t i = 0; !code && i < a->n_pkgs; i++)
                        printf("published %s\n", a->pkgs[i]);
        } else if (code == 0 && !strcmp(sub, "rotate")) {
                if (!a->n_sign) {
                        code = usage_err(what, "%s", "--sign KEY: the current root keys");
                } else {
                        repo_keys(a, &k, 1);
                        if ((code = repo_roles(a, &init, keys)) == 0)
                                code = st_repo_rotate_root(a->dir, &init, &k, &err) < 0
                                           ? fail(what, &err)
                                           : 0;
                }
        } else if (code == 0) { /* signers */
                struct st_key sk[REPO_KEYS_MAX] = {0};
                for (size_t i = 0; i < a->n_signers; i++)
                        memcpy(sk[i].pk, a->signer_pk[i], ST_PK_BYTES);
                struct st_role role = {.keys = sk,
                                       .n_keys = a->n_signers,
                                       .threshold =
                                           a->signers_threshold ? a->signers_threshold : 1};
                repo_keys(a, &k, 0);
                if (!a->n_signers)
                        code = usage_err(what, "%s", "no --signer PUB given");
                else if (role.threshold > a->n_signers)
                        code = usage_err(what, "%s", "threshold above the number of signers");
                else
                        code = st_repo_set_signers(a->dir, a->name, &role, a->expires, &k, &err) < 0
                                   ? fail(what, &err)
                                   : 0;
        }
        repo_args_wipe(a);
        free(a);
        free(pkgs);
        return code;
}
