/* Changing the local store: install, remove, rollback. Every change ends
 * in a new or another generation made active by one rename of `current`;
 * every step before it only adds content-addressed files that no
 * generation names yet (docs/store.md, "Store layout"). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "store/local_priv.h"

/* File descriptors nftw may hold open while walking a tree. */
#define ST_NFTW_FDS 32

/* What this operation added outside tmp/, removed again when it fails
 * before the commit point (gc would, but a refused install should leave
 * the store as it found it). */
struct st_added {
        char (*rel)[ST_REL_MAX];
        size_t n, cap;
};

static int st_added_push(struct st_added *a, const char *rel, struct sl_error *err)
{
        if (a->n == a->cap) {
                size_t cap = a->cap ? a->cap * 2 : 16;
                char(*p)[ST_REL_MAX] = realloc(a->rel, cap * sizeof *p);
                if (!p)
                        return sl_error_set(err, ENOMEM, "install");
                a->rel = p;
                a->cap = cap;
        }
        snprintf(a->rel[a->n++], ST_REL_MAX, "%s", rel);
        return 0;
}

static void st_added_undo(struct st_store *s, struct st_added *a)
{
        int saved = errno;
        for (size_t i = a->n; i-- > 0;) {
                uint64_t b;
                st_local_retire(s, a->rel[i], &b, NULL);
        }
        errno = saved;
}

static void st_added_free(struct st_added *a)
{
        free(a->rel);
        memset(a, 0, sizeof *a);
}

/* ---- resolving what to install ---- */

struct st_plan_pkg {
        struct st_installed inst;
        struct st_buf env; /* the envelope's bytes, written to packages/ */
        int requested;     /* named by the caller, not only a dependency */
};
struct st_plan {
        struct st_plan_pkg *p;
        size_t n, cap;
};

static void st_plan_free(struct st_plan *pl)
{
        for (size_t i = 0; i < pl->n; i++) {
                st_local_installed_free(&pl->p[i].inst);
                st_buf_free(&pl->p[i].env);
        }
        free(pl->p);
        memset(pl, 0, sizeof *pl);
}

static int st_has(const struct st_installed *pkgs, size_t n, const char *name, const char *version)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(pkgs[i].name, name) == 0 && strcmp(pkgs[i].version, version) == 0)
                        return 1;
        return 0;
}

/* In the plan already? A package named by the caller that was first
 * planned as a dependency is marked requested now. */
static int st_plan_has(struct st_plan *pl, const char *name, const char *version, int requested)
{
        for (size_t i = 0; i < pl->n; i++)
                if (strcmp(pl->p[i].inst.name, name) == 0 &&
                    strcmp(pl->p[i].inst.version, version) == 0) {
                        pl->p[i].requested |= requested;
                        return 1;
                }
        return 0;
}

/* The source's manifest must be the one inside the envelope we store:
 * generations are checked against the stored envelopes later. */
static int st_same_manifest(const struct st_manifest *a, const struct st_manifest *b)
{
        if (strcmp(a->name, b->name) || strcmp(a->version, b->version) ||
            a->n_archives != b->n_archives || a->n_deps != b->n_deps)
                return 0;
        for (size_t i = 0; i < a->n_archives; i++)
                if (strcmp(a->archives[i].hash, b->archives[i].hash) ||
                    a->archives[i].size != b->archives[i].size)
                        return 0;
        for (size_t i = 0; i < a->n_deps; i++)
                if (strcmp(a->deps[i].name, b->deps[i].name) ||
                    strcmp(a->deps[i].version, b->deps[i].version))
                        return 0;
        return 1;
}

/* Check what the source returned for NAME[@VERSION]. */
static int st_check_package(const char *name, const char *version, const struct st_buf *env,
                            const char *pkg_hash, const struct st_manifest *m, struct sl_error *err)
{
        if (strcmp(m->name, name) != 0 || (*version && strcmp(m->version, version) != 0))
                return sl_error_set(err, 0, "package %s%s%s: the source returned %s@%s", name,
                                    *version ? "@" : "", version, m->name, m->version);
        char h[ST_HASH_HEX];
        st_local_hash_buf(env->data, env->len, h);
        if (strcmp(h, pkg_hash) != 0)
                return sl_error_set(err, 0, "package %s@%s: envelope hash mismatch, got %s", name,
                                    m->version, h);
        struct st_manifest inner;
        if (st_local_manifest_from_envelope(env->data, env->len, &inner, err) < 0)
                return sl_error_prefix(err, "package %s@%s", name, m->version);
        int same = st_same_manifest(m, &inner);
        st_manifest_free(&inner);
        if (!same)
                return sl_error_set(err, 0,
                                    "package %s@%s: the envelope holds another manifest than the "
                                    "source returned",
                                    name, m->version);
        return 0;
}

static int st_plan_add(struct st_plan *pl, const struct st_manifest *m, struct st_buf *env,
                       const char *pkg_hash, int requested, struct sl_error *err)
{
        if (pl->n >= ST_GEN_MAX_PACKAGES)
                return sl_error_set(err, 0, "install: more than %d packages", ST_GEN_MAX_PACKAGES);
        if (pl->n == pl->cap) {
                size_t cap = pl->cap ? pl->cap * 2 : 8;
                struct st_plan_pkg *p = realloc(pl->p, cap * sizeof *p);
                if (!p)
                        return sl_error_set(err, ENOMEM, "install");
                pl->p = p;
                pl->cap = cap;
        }
        struct st_plan_pkg *p = &pl->p[pl->n];
        memset(p, 0, sizeof *p);
        snprintf(p->inst.name, sizeof p->inst.name, "%s", m->name);
        snprintf(p->inst.version, sizeof p->inst.version, "%s", m->version);
        memcpy(p->inst.manifest, pkg_hash, ST_HASH_HEX);
        p->inst.archives = calloc(m->n_archives + 1, sizeof *p->inst.archives);
        if (!p->inst.archives)
                return sl_error_set(err, ENOMEM, "install");
        for (size_t i = 0; i < m->n_archives; i++)
                memcpy(p->inst.archives[i], m->archives[i].hash, ST_HASH_HEX);
        p->inst.n_archives = m->n_archives;
        p->env = *env;
        memset(env, 0, sizeof *env);
        p->requested = requested;
        pl->n++;
        return 0;
}

/* Add NAME[@VERSION] and, depth first, its dependencies to the plan unless
 * already there or installed. A package enters the plan before its
 * dependencies are looked at, so a cycle ends at the second visit. */
static int st_resolve(const struct st_source *src, const struct st_generation *cur,
                      struct st_plan *pl, const char *name, const char *version, int requested,
                      struct sl_error *err)
{
        if (*version && (st_plan_has(pl, name, version, requested) ||
                         st_has(cur->pkgs, cur->n_pkgs, name, version)))
                return 0;
        _cleanup_buf_ struct st_buf env = {0};
        char pkg_hash[ST_HASH_HEX] = "";
        struct st_manifest m = {0};
        if (src->package(src->ctx, name, version, &env, pkg_hash, &m, err) < 0) {
                st_manifest_free(&m);
                return sl_error_prefix(err, "package %s%s%s", name, *version ? "@" : "", version);
        }
        int r = -1;
        if (st_check_package(name, version, &env, pkg_hash, &m, err) < 0)
                goto out;
        /* NAME alone: only now do we know which version "newest" is. */
        if (st_plan_has(pl, m.name, m.version, requested) ||
            st_has(cur->pkgs, cur->n_pkgs, m.name, m.version))
                goto done;
        if (st_plan_add(pl, &m, &env, pkg_hash, requested, err) < 0)
                goto out;
        for (size_t i = 0; i < m.n_deps; i++)
                if (st_resolve(src, cur, pl, m.deps[i].name, m.deps[i].version, 0, err) < 0) {
                        sl_error_prefix(err, "dependency of %s@%s", m.name, m.version);
                        goto out;
                }
done:
        r = 0;
out:
        st_manifest_free(&m);
        return r;
}

/* ---- storing archives and trees ---- */

static int st_exists(struct st_store *s, const char *rel)
{
        struct stat st;
        return fstatat(s->dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Fetch into tmp/, check size and hash, make it durable and read-only,
 * rename it into archives/. */
static int st_fetch_archive(struct st_store *s, const struct st_source *src,
                            const struct st_archive_ref *ref, const char *rel, struct sl_error *err)
{
        char tmp[PATH_MAX];
        if (snprintf(tmp, sizeof tmp, "%s/" ST_DIR_TMP "/archive-XXXXXX", s->dir) >=
            (int)sizeof tmp)
                return sl_error_set(err, ENAMETOOLONG, "archive %s", ref->hash);
        _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return sl_error_errno(err, "archive %s: create `%s`", ref->hash, tmp);
        struct stat st;
        char got[ST_HASH_HEX];
        if (src->archive(src->ctx, ref, fd, err) < 0) {
                sl_error_prefix(err, "archive %s", ref->hash);
                goto fail;
        }
        if (fstat(fd, &st) < 0) {
                sl_error_errno(err, "archive %s: stat `%s`", ref->hash, tmp);
                goto fail;
        }
        if ((uint64_t)st.st_size != ref->size) {
                sl_error_set(err, 0, "archive %s: size mismatch, got %lld bytes, expected %llu",
                             ref->hash, (long long)st.st_size, (unsigned long long)ref->size);
                goto fail;
        }
        if (lseek(fd, 0, SEEK_SET) < 0) {
                sl_error_errno(err, "archive %s: seek `%s`", ref->hash, tmp);
                goto fail;
        }
        if (st_archive_hash_fd(fd, ref->size, got, err) < 0) {
                sl_error_prefix(err, "archive %s", ref->hash);
                goto fail;
        }
        if (strcmp(got, ref->hash) != 0) {
                sl_error_set(err, 0, "archive %s: hash mismatch, got %s", ref->hash, got);
                goto fail;
        }
        /* Durable before its name says it is this archive; read-only since
         * content addressing means it never changes. */
        if (fsync(fd) < 0 || fchmod(fd, 0444) < 0) {
                sl_error_errno(err, "archive %s: fsync `%s`", ref->hash, tmp);
                goto fail;
        }
        if (renameat(AT_FDCWD, tmp, s->dirfd, rel) < 0) {
                sl_error_errno(err, "archive %s: rename `%s` to `%s`", ref->hash, tmp, rel);
                goto fail;
        }
        return st_fsync_dir_at(s->dirfd, ST_DIR_ARCHIVES, err);
fail:
        unlink(tmp);
        return -1;
}

static int st_readonly_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)ftw;
        if (flag == FTW_SL || S_ISLNK(sb->st_mode) || !(sb->st_mode & 0222))
                return 0;
        return chmod(p, sb->st_mode & 07555);
}

/* Unpack the stored archive next to trees/<hash>, remove every write bit,
 * and only then rename it to its real name: a tree under its real name is
 * always complete and read-only. */
static int st_make_tree(struct st_store *s, const char *hash, const char *rel, struct sl_error *err)
{
        static const struct st_limits lim = {.max_bytes = ST_STORE_UNPACK_MAX_BYTES,
                                             .max_entries = ST_STORE_UNPACK_MAX_ENTRIES};
        char archive[PATH_MAX], aside_rel[ST_REL_MAX + 16], aside[PATH_MAX];
        snprintf(aside_rel, sizeof aside_rel, "%s" ST_LEFTOVER_MARK "unpack", rel);
        if (st_local_path(s, ST_DIR_ARCHIVES, archive, err) < 0 ||
            st_local_path(s, aside_rel, aside, err) < 0)
                return -1;
        snprintf(archive + strlen(archive), sizeof archive - strlen(archive),
                 "/%s" ST_ARCHIVE_SUFFIX, hash);
        st_local_rm_tree(aside); /* an earlier failure in this same open */
        if (st_unpack(archive, aside, &lim, err) < 0)
                return sl_error_prefix(err, "archive %s", hash);
        /* Mode changes are metadata only: one syncfs makes them durable
         * instead of one journal commit per file. */
        if (nftw(aside, st_readonly_cb, ST_NFTW_FDS, FTW_DEPTH | FTW_PHYS) != 0 ||
            syncfs(s->dirfd) < 0) {
                sl_error_errno(err, "archive %s: make `%s` read-only", hash, aside);
                goto fail;
        }
        /* Same parent: renaming the read-only directory needs no write
         * permission on it. */
        if (renameat2(s->dirfd, aside_rel, s->dirfd, rel, RENAME_NOREPLACE) < 0) {
                sl_error_errno(err, "archive %s: rename `%s` to `%s`", hash, aside_rel, rel);
                goto fail;
        }
        return st_fsync_dir_at(s->dirfd, ST_DIR_TREES, err);
fail:
        st_local_rm_tree(aside);
        return -1;
}

/* The archive stored and unpacked, fetching only what is missing. */
static int st_store_archive(struct st_store *s, const struct st_source *src,
                            const struct st_archive_ref *ref, struct st_added *added,
                            struct sl_error *err)
{
        char arel[ST_REL_MAX], trel[ST_REL_MAX];
        snprintf(arel, sizeof arel, ST_DIR_ARCHIVES "/%s" ST_ARCHIVE_SUFFIX, ref->hash);
        snprintf(trel, sizeof trel, ST_DIR_TREES "/%s", ref->hash);
        if (!st_exists(s, arel)) {
                if (st_fetch_archive(s, src, ref, arel, err) < 0)
                        return -1;
                if (st_added_push(added, arel, err) < 0)
                        return -1;
        }
        /* An archive without its tree: an install interrupted between the
         * two, or a gc between removing them. Unpack again. */
        if (!st_exists(s, trel)) {
                if (st_make_tree(s, ref->hash, trel, err) < 0)
                        return -1;
                if (st_added_push(added, trel, err) < 0)
                        return -1;
        }
        return 0;
}

/* Every archive of the planned packages (their manifests say which sizes
 * to expect), then the envelopes. */
static int st_store_plan(struct st_store *s, const struct st_source *src, struct st_plan *pl,
                         struct st_added *added, struct sl_error *err)
{
        for (size_t i = 0; i < pl->n; i++) {
                struct st_manifest m;
                struct st_plan_pkg *p = &pl->p[i];
                if (st_local_manifest_from_envelope(p->env.data, p->env.len, &m, err) < 0)
                        return sl_error_prefix(err, "package %s@%s", p->inst.name, p->inst.version);
                int r = 0;
                for (size_t a = 0; a < m.n_archives && r == 0; a++)
                        r = st_store_archive(s, src, &m.archives[a], added, err);
                st_manifest_free(&m);
                if (r < 0)
                        return sl_error_prefix(err, "package %s@%s", p->inst.name, p->inst.version);
        }
        for (size_t i = 0; i < pl->n; i++) {
                char rel[ST_REL_MAX];
                snprintf(rel, sizeof rel, ST_DIR_PACKAGES "/%s" ST_PACKAGE_SUFFIX,
                         pl->p[i].inst.manifest);
                if (st_exists(s, rel))
                        continue;
                if (st_write_atomic_at(s->dirfd, rel, pl->p[i].env.data, pl->p[i].env.len, 0444,
                                       err) < 0 ||
                    st_added_push(added, rel, err) < 0)
                        return -1;
        }
        return 0;
}

/* ---- new generations ---- */

/* The number after every generation file there is (not after current:
 * after a rollback, a kept newer generation must not be overwritten). */
static int st_next_number(struct st_store *s, uint64_t cur, uint64_t *out, struct sl_error *err)
{
        _cleanup_free_ uint64_t *nums = NULL;
        size_t n;
        if (st_local_generation_numbers(s, &nums, &n, err) < 0)
                return -1;
        uint64_t top = n ? nums[n - 1] : 0;
        *out = (top > cur ? top : cur) + 1;
        return 0;
}

/* Write g as the next generation and make it active. On failure before
 * the commit point, everything in `added` and the generation file are
 * removed again. */
static int st_commit(struct st_store *s, struct st_generation *g, struct st_added *added,
                     uint64_t *gen_out, struct sl_error *err)
{
        uint64_t cur;
        char rel[ST_REL_MAX];
        if (st_local_current_number(s, &cur, err) < 0 ||
            st_next_number(s, cur, &g->number, err) < 0)
                goto undo;
        g->created = time(NULL);
        snprintf(rel, sizeof rel, ST_DIR_GENERATIONS "/%llu.json", (unsigned long long)g->number);
        if (st_local_generation_write(s, g, err) < 0 || st_added_push(added, rel, err) < 0)
                goto undo;
        if (st_local_switch(s, g->number, err) < 0) {
                /* A failure after the rename (fsync) is committed already. */
                uint64_t now;
                if (st_local_current_number(s, &now, NULL) == 0 && now == g->number)
                        return -1;
                goto undo;
        }
        *gen_out = g->number;
        return 0;
undo:
        st_added_undo(s, added);
        return -1;
}

static int st_append_reason(char *reason, size_t cap, const char *word)
{
        size_t n = strlen(reason);
        if (n + 1 + strlen(word) + 1 > cap)
                return -1;
        snprintf(reason + n, cap - n, "%s%s", n && reason[n - 1] != ' ' ? " " : "", word);
        return 0;
}

/* The current packages plus the planned ones, with the reason naming
 * those the caller asked for. */
static int st_next_generation(const struct st_generation *cur, const struct st_plan *pl,
                              struct st_generation *next, struct sl_error *err)
{
        next->pkgs = calloc(cur->n_pkgs + pl->n + 1, sizeof *next->pkgs);
        if (!next->pkgs)
                return sl_error_set(err, ENOMEM, "install");
        snprintf(next->reason, sizeof next->reason, "install");
        for (size_t i = 0; i < cur->n_pkgs; i++)
                if (st_local_installed_copy(&next->pkgs[next->n_pkgs++], &cur->pkgs[i], err) < 0)
                        return -1;
        for (size_t i = 0; i < pl->n; i++) {
                char spec[ST_NAME_MAX + ST_VERSION_MAX + 1];
                snprintf(spec, sizeof spec, "%s@%s", pl->p[i].inst.name, pl->p[i].inst.version);
                if (pl->p[i].requested)
                        st_append_reason(next->reason, sizeof next->reason, spec);
                if (st_local_installed_copy(&next->pkgs[next->n_pkgs++], &pl->p[i].inst, err) < 0)
                        return -1;
        }
        return 0;
}

int st_store_install(struct st_store *s, const struct st_source *src, const char *const *specs,
                     size_t n, uint64_t *gen_out, struct sl_error *err)
{
        if (st_local_need_write(s, err) < 0)
                return -1;
        if (!src || !src->package || !src->archive || n == 0)
                return sl_error_set(err, EINVAL, "install: nothing to install");
        struct st_generation cur = {0}, next = {0};
        struct st_plan pl = {0};
        struct st_added added = {0};
        int r = -1;
        if (st_store_current(s, &cur, err) < 0)
                goto out;
        for (size_t i = 0; i < n; i++) {
                char name[ST_NAME_MAX], version[ST_VERSION_MAX];
                if (st_spec_parse(specs[i], name, version, err) < 0 ||
                    st_resolve(src, &cur, &pl, name, version, 1, err) < 0)
                        goto out;
        }
        *gen_out = cur.number;
        if (pl.n == 0) {
                r = 0; /* everything asked for is installed: no new generation */
                goto out;
        }
        if (st_next_generation(&cur, &pl, &next, err) < 0)
                goto out;
        if (st_store_plan(s, src, &pl, &added, err) < 0) {
                st_added_undo(s, &added);
                goto out;
        }
        r = st_commit(s, &next, &added, gen_out, err);
out:
        st_generation_free(&cur);
        st_generation_free(&next);
        st_plan_free(&pl);
        st_added_free(&added);
        return r;
}

/* ---- remove ---- */

static int st_spec_matches(const struct st_installed *p, const char *name, const char *version)
{
        return strcmp(p->name, name) == 0 && (!*version || strcmp(p->version, version) == 0);
}

/* Refuse when a remaining package depends on a removed one. */
static int st_check_dependents(struct st_store *s, const struct st_generation *cur,
                               const int *removed, struct sl_error *err)
{
        for (size_t i = 0; i < cur->n_pkgs; i++) {
                if (removed[i])
                        continue;
                struct st_manifest m;
                if (st_local_manifest(s, cur->pkgs[i].manifest, &m, err) < 0)
                        return -1;
                for (size_t d = 0; d < m.n_deps; d++)
                        for (size_t j = 0; j < cur->n_pkgs; j++) {
                                if (!removed[j] || !st_spec_matches(&cur->pkgs[j], m.deps[d].name,
                                                                    m.deps[d].version))
                                        continue;
                                sl_error_set(err, 0, "cannot remove %s@%s: %s@%s depends on it",
                                             cur->pkgs[j].name, cur->pkgs[j].version, m.name,
                                             m.version);
                                st_manifest_free(&m);
                                return -1;
                        }
                st_manifest_free(&m);
        }
        return 0;
}

int st_store_remove(struct st_store *s, const char *const *specs, size_t n, uint64_t *gen_out,
                    struct sl_error *err)
{
        if (st_local_need_write(s, err) < 0)
                return -1;
        struct st_generation cur = {0}, next = {0};
        struct st_added added = {0};
        _cleanup_free_ int *removed = NULL;
        int r = -1;
        if (st_store_current(s, &cur, err) < 0)
                goto out;
        removed = calloc(cur.n_pkgs + 1, sizeof *removed);
        next.pkgs = calloc(cur.n_pkgs + 1, sizeof *next.pkgs);
        if (!removed || !next.pkgs) {
                sl_error_set(err, ENOMEM, "remove");
                goto out;
        }
        snprintf(next.reason, sizeof next.reason, "remove");
        for (size_t i = 0; i < n; i++) {
                char name[ST_NAME_MAX], version[ST_VERSION_MAX];
                if (st_spec_parse(specs[i], name, version, err) < 0)
                        goto out;
                int found = 0;
                for (size_t j = 0; j < cur.n_pkgs; j++)
                        if (st_spec_matches(&cur.pkgs[j], name, version))
                                found = removed[j] = 1;
                if (!found) {
                        sl_error_set(err, 0, "package %s is not installed (generation %llu)",
                                     specs[i], (unsigned long long)cur.number);
                        goto out;
                }
                st_append_reason(next.reason, sizeof next.reason, specs[i]);
        }
        if (n == 0) {
                sl_error_set(err, EINVAL, "remove: nothing to remove");
                goto out;
        }
        if (st_check_dependents(s, &cur, removed, err) < 0)
                goto out;
        for (size_t i = 0; i < cur.n_pkgs; i++)
                if (!removed[i] &&
                    st_local_installed_copy(&next.pkgs[next.n_pkgs++], &cur.pkgs[i], err) < 0)
                        goto out;
        r = st_commit(s, &next, &added, gen_out, err);
out:
        st_generation_free(&cur);
        st_generation_free(&next);
        st_added_free(&added);
        return r;
}

/* ---- rollback ---- */

static int st_need(struct st_store *s, uint64_t gen, const char *dir, const char *hash,
                   const char *suffix, struct sl_error *err)
{
        char rel[ST_REL_MAX];
        snprintf(rel, sizeof rel, "%s/%s%s", dir, hash, suffix);
        if (!st_exists(s, rel))
                return sl_error_set(err, ENOENT, "generation %llu: `%s/%s`",
                                    (unsigned long long)gen, s->dir, rel);
        return 0;
}

/* Everything generation g names is present (gc keeps it; this is the
 * last check before slices run from it). */
static int st_generation_complete(struct st_store *s, const struct st_generation *g,
                                  struct sl_error *err)
{
        for (size_t i = 0; i < g->n_pkgs; i++) {
                const struct st_installed *p = &g->pkgs[i];
                if (st_need(s, g->number, ST_DIR_PACKAGES, p->manifest, ST_PACKAGE_SUFFIX, err) < 0)
                        return -1;
                for (size_t a = 0; a < p->n_archives; a++)
                        if (st_need(s, g->number, ST_DIR_ARCHIVES, p->archives[a],
                                    ST_ARCHIVE_SUFFIX, err) < 0 ||
                            st_need(s, g->number, ST_DIR_TREES, p->archives[a], "", err) < 0)
                                return -1;
        }
        return 0;
}

int st_store_rollback(struct st_store *s, uint64_t gen, uint64_t *gen_out, struct sl_error *err)
{
        if (st_local_need_write(s, err) < 0)
                return -1;
        uint64_t cur, target = gen;
        _cleanup_free_ uint64_t *nums = NULL;
        size_t n;
        if (st_local_current_number(s, &cur, err) < 0 ||
            st_local_generation_numbers(s, &nums, &n, err) < 0)
                return -1;
        int found = 0;
        for (size_t i = 0; i < n; i++) {
                if (gen == 0 && nums[i] < cur)
                        target = nums[i], found = 1;
                if (gen != 0 && nums[i] == gen)
                        found = 1;
        }
        if (!found && gen == 0)
                return sl_error_set(err, 0, "no generation before %llu", (unsigned long long)cur);
        if (!found)
                return sl_error_set(err, 0, "generation %llu does not exist",
                                    (unsigned long long)gen);
        *gen_out = cur;
        if (target == cur)
                return 0;
        struct st_generation g;
        if (st_local_generation_read(s, target, &g, err) < 0)
                return -1;
        int r = st_generation_complete(s, &g, err);
        st_generation_free(&g);
        if (r < 0 || st_local_switch(s, target, err) < 0)
                return -1;
        *gen_out = target;
        return 0;
}
