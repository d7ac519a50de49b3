/* The store's st_source over a TUF repository: see remote.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "store/fetch.h"
#include "store/remote.h"

#define REMOTE_JSON_MAX (64 << 10)
#define URL_MAX         4096

struct st_remote {
        char url[URL_MAX];
        int progress;
        time_t now;
        struct st_targets targets;
        struct st_tuf_fetcher fetcher;
        struct st_source source;
};

/* Metadata documents: no progress bar, the cap the reader gives. */
static int fetch_rel(void *ctx, const char *rel, uint64_t max_bytes, struct st_buf *out,
                     struct sl_error *err)
{
        struct st_remote *r = ctx;
        _cleanup_free_ char *url = st_url_join(r->url, rel, err);
        if (!url)
                return -1;
        struct st_fetch_opts o = {.max_bytes = max_bytes};
        return st_fetch_buf(url, &o, out, err);
}

static int source_package(void *ctx, const char *name, const char *version, struct st_buf *pkg,
                          char pkg_hash[ST_HASH_HEX], struct st_manifest *m, struct sl_error *err)
{
        struct st_remote *r = ctx;
        const struct st_target *t = st_targets_find(&r->targets, name, version);
        if (!t)
                return sl_error_set(err, ENOENT,
                                    "package %s%s%s is not in the repository (targets version "
                                    "%llu)",
                                    name, *version ? "@" : "", version,
                                    (unsigned long long)r->targets.version);
        char rel[ST_HASH_HEX + 16];
        snprintf(rel, sizeof rel, "packages/%s.pkg", t->hash);
        if (fetch_rel(r, rel, t->length, pkg, err) < 0 ||
            st_tuf_verify_package(&r->targets, t, pkg->data, pkg->len, r->now, m, err) < 0)
                return sl_error_prefix(err, "package %s@%s", t->name, t->version);
        memcpy(pkg_hash, t->hash, ST_HASH_HEX);
        return 0;
}

static int source_archive(void *ctx, const struct st_archive_ref *ref, int fd, struct sl_error *err)
{
        struct st_remote *r = ctx;
        char rel[ST_HASH_HEX + 24], label[32];
        snprintf(rel, sizeof rel, "archives/%s.tar.zst", ref->hash);
        snprintf(label, sizeof label, "archive %.12s", ref->hash);
        _cleanup_free_ char *url = st_url_join(r->url, rel, err);
        if (!url)
                return -1;
        /* The manifest's size is the cap: one byte more is endless data. */
        struct st_fetch_opts o = {
            .max_bytes = ref->size ? ref->size : 1, .progress = r->progress, .label = label};
        uint64_t written = 0;
        return st_fetch_fd(url, &o, fd, &written, err);
}

/* trust + "/" + name into out[PATH_MAX]. */
static int trust_file(char *out, const char *trust, const char *name, struct sl_error *err)
{
        if (snprintf(out, PATH_MAX, "%s/%s", trust, name) >= PATH_MAX)
                return sl_error_set(err, ENAMETOOLONG, "trust directory `%s`", trust);
        return 0;
}

/* The version of a root envelope, read without verifying it: only to tell
 * an older copy of the trusted chain from a different root. */
static int root_version(const struct st_buf *b, uint64_t *version, struct sl_error *err)
{
        struct st_envelope env = {0};
        if (st_envelope_parse(b->data, b->len, &env, err) < 0)
                return -1;
        _cleanup_json_ json_t *doc =
            st_json_parse(env.signed_bytes.data, env.signed_bytes.len, "root", err);
        st_envelope_free(&env);
        if (!doc)
                return -1;
        return st_json_get_u64(doc, "version", "root", UINT32_MAX, version, err);
}

static int read_remembered_url(const char *trust, char *url, struct sl_error *err)
{
        char path[PATH_MAX];
        _cleanup_buf_ struct st_buf b = {0};
        url[0] = 0;
        if (trust_file(path, trust, "remote.json", err) < 0)
                return -1;
        if (st_read_file(path, REMOTE_JSON_MAX, &b, err) < 0)
                return err->code == ENOENT ? 0 : -1;
        _cleanup_json_ json_t *doc = st_json_parse(b.data, b.len, path, err);
        if (!doc || st_json_get_str(doc, "url", path, url, URL_MAX, err) < 0)
                return -1;
        return 0;
}

/* Forget what the trust directory holds about a repository (switching). */
static int forget_repository(const char *trust, struct sl_error *err)
{
        static const char *const files[] = {"timestamp.json", "snapshot.json", "targets.json",
                                            "root.json", "remote.json"};
        for (size_t i = 0; i < SL_ARRAY_SIZE(files); i++) {
                char path[PATH_MAX];
                if (trust_file(path, trust, files[i], err) < 0)
                        return -1;
                if (unlink(path) < 0 && errno != ENOENT)
                        return sl_error_errno(err, "remove `%s`", path);
        }
        return st_fsync_dir_at(AT_FDCWD, trust, err);
}

/* Pin the given root, or check it against what is trusted already. */
static int pin_root(const char *trust, const void *root, size_t root_len, int switching,
                    struct sl_error *err)
{
        char path[PATH_MAX];
        if (trust_file(path, trust, "root.json", err) < 0)
                return -1;
        if (root_len > ST_TUF_ROOT_MAX)
                return sl_error_set(err, EFBIG, "root: larger than %d bytes", ST_TUF_ROOT_MAX);
        struct st_buf given = {.data = (uint8_t *)root, .len = root_len};
        _cleanup_buf_ struct st_buf trusted = {0};
        struct sl_error e2 = {0};
        uint64_t vg, vt;
        if (root_version(&given, &vg, err) < 0)
                return sl_error_prefix(err, "root to pin");
        if (!switching && st_read_file(path, ST_TUF_ROOT_MAX, &trusted, &e2) == 0) {
                if (root_len == trusted.len && !memcmp(root, trusted.data, root_len))
                        return 0;
                if (root_version(&trusted, &vt, err) < 0)
                        return sl_error_prefix(err, "trusted root `%s`", path);
                if (vg < vt)
                        return 0; /* an older root of the chain we already followed */
                return sl_error_set(err, EEXIST,
                                    "root to pin: the store already trusts a different root "
                                    "(version %llu); remove `%s` to pin another",
                                    (unsigned long long)vt, trust);
        }
        return st_write_atomic(path, root, root_len, 0644, err);
}

static int have_root(const char *trust)
{
        char path[PATH_MAX];
        return trust_file(path, trust, "root.json", NULL) == 0 && access(path, F_OK) == 0;
}

int st_remote_open(struct st_store *s, const char *url, const void *root, size_t root_len,
                   int progress, time_t now, struct st_remote **out, struct sl_error *err)
{
        char trust[PATH_MAX], remembered[URL_MAX];
        if (trust_file(trust, st_store_dir(s), "trust", err) < 0)
                return -1;
        if (read_remembered_url(trust, remembered, err) < 0)
                return -1;
        if (!url && !*remembered)
                return sl_error_set(err, EINVAL,
                                    "no repository: name one with --repo URL (and pin its root "
                                    "with --root FILE the first time)");
        int switching = url && *remembered && strcmp(url, remembered) != 0;
        if (switching && !root)
                return sl_error_set(err, EINVAL,
                                    "the store trusts the repository `%s`; to switch to `%s`, "
                                    "pin the new repository's root with --root FILE",
                                    remembered, url);
        if (url && strlen(url) >= URL_MAX)
                return sl_error_set(err, ENAMETOOLONG, "repository URL");
        if (switching && forget_repository(trust, err) < 0)
                return -1;
        if (root && pin_root(trust, root, root_len, switching, err) < 0)
                return -1;
        if (!have_root(trust))
                return sl_error_set(err, ENOENT,
                                    "the store trusts no root for `%s`: pin the repository's "
                                    "root with --root FILE (obtained out of band)",
                                    url ? url : remembered);
        if (url && strcmp(url, remembered) != 0) {
                _cleanup_free_ char *doc = NULL;
                json_t *j = json_pack("{s:s}", "url", url);
                doc = j ? json_dumps(j, JSON_COMPACT) : NULL;
                json_decref(j);
                char path[PATH_MAX];
                if (trust_file(path, trust, "remote.json", err) < 0)
                        return -1;
                if (!doc || st_write_atomic(path, doc, strlen(doc), 0644, err) < 0)
                        return doc ? -1 : sl_error_set(err, ENOMEM, "remote.json");
        }
        struct st_remote *r = calloc(1, sizeof *r);
        if (!r)
                return sl_error_set(err, ENOMEM, "repository");
        snprintf(r->url, sizeof r->url, "%s", url ? url : remembered);
        r->progress = progress;
        r->now = now;
        r->fetcher = (struct st_tuf_fetcher){.fetch = fetch_rel, .ctx = r};
        r->source =
            (struct st_source){.package = source_package, .archive = source_archive, .ctx = r};
        if (st_tuf_refresh(trust, &r->fetcher, now, &r->targets, err) < 0) {
                sl_error_prefix(err, "repository `%s`", r->url);
                free(r);
                return -1;
        }
        *out = r;
        return 0;
}

void st_remote_close(struct st_remote *r)
{
        if (!r)
                return;
        st_targets_free(&r->targets);
        free(r);
}

const struct st_source *st_remote_source(struct st_remote *r)
{
        return &r->source;
}

const struct st_targets *st_remote_targets(const struct st_remote *r)
{
        return &r->targets;
}
