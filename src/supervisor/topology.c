/* Loading a topology: a file, a directory of files, or a string; then the
 * cross-slice checks; then either a whole valid tree or every error.
 *
 * Pure apart from reading the files: nothing here spawns, mounts or writes.
 * Each file is parsed into a node tree (topology_tree.c), decoded into specs
 * (topology_decode.c) and dropped; the checks (topology_check.c) run on the
 * specs of all files together. Errors of every stage are collected and
 * reported in file order, and a topology with any error is never returned.
 */
#include "supervisor/topology_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"

struct loader {
        struct sv_topology *t;
        size_t cap;   /* of t->slices */
        size_t total; /* slices in all files */
        struct sv_diagbuf diag;
};

/* ---- freeing ---- */

static void strv_free(char **v)
{
        for (char **p = v; p && *p; p++)
                free(*p);
        free(v);
}

void sv_slice_spec_release(struct sv_slice_spec *s)
{
        free(s->name);
        free(s->path);
        strv_free(s->exec);
        free(s->package);
        strv_free(s->env);
        free(s->profile);
        free(s->hostname);
        free(s->cwd);
        free(s->config_json);
        free(s->res.cores);
        for (size_t i = 0; i < s->n_mounts; i++) {
                free(s->mounts[i].src);
                free(s->mounts[i].dest);
        }
        free(s->mounts);
        strv_free(s->listen);
        strv_free(s->provides);
        for (size_t i = 0; i < s->n_routes; i++) {
                free(s->routes[i].service);
                free(s->routes[i].slice);
                free(s->routes[i].label);
        }
        free(s->routes);
        free(s->route_index);
        strv_free(s->health.exec);
        for (size_t i = 0; i < s->n_children; i++)
                sv_slice_spec_release(&s->children[i]);
        free(s->children);
}

void sv_topology_free(struct sv_topology *t)
{
        if (!t)
                return;
        for (size_t i = 0; i < t->n_slices; i++)
                sv_slice_spec_release(&t->slices[i]);
        free(t->slices);
        for (size_t i = 0; i < t->n_files; i++)
                free(t->files[i]);
        free(t->files);
        free(t);
}

/* ---- reading ---- */

static const char *intern_file(struct loader *L, const char *name)
{
        struct sv_topology *t = L->t;
        char **files = realloc(t->files, (t->n_files + 1) * sizeof *files);
        if (!files)
                return NULL;
        t->files = files;
        if (!(files[t->n_files] = strdup(name)))
                return NULL;
        return files[t->n_files++];
}

static enum sv_doc_format format_of(const char *name)
{
        size_t n = strlen(name);
        return n >= 5 && !strcmp(name + n - 5, ".json") ? SV_DOC_JSON : SV_DOC_YAML;
}

/* Parse and decode one document; file is interned. -1 only on ENOMEM. */
static int load_text(struct loader *L, const char *file, const char *base_dir, const char *text,
                     size_t len)
{
        struct sv_arena arena = {0};
        struct sv_node *root = NULL;
        struct sv_pos epos;
        struct sl_error e = {0};
        int r = 0;
        if (sv_tree_parse(&arena, file, text, len, format_of(file), &root, &epos, &e) < 0) {
                if (e.code == ENOMEM)
                        r = -1;
                else
                        sv_diag_add(&L->diag, &epos, file, NULL, "%s", e.msg);
        } else {
                struct sv_decode_in in = {.file = file, .base_dir = base_dir};
                r = sv_decode_document(&in, root, &L->t->slices, &L->t->n_slices, &L->cap,
                                       &L->total, &L->diag);
        }
        sv_arena_release(&arena);
        return r;
}

/* A file that cannot be read: a diagnostic among the others when it is one
 * of a directory (io_err NULL), the load's own error when it is the file
 * asked for. */
static int unreadable(struct loader *L, const char *path, struct sl_error *io_err, int e,
                      const char *what)
{
        if (io_err)
                return sl_error_set(io_err, e, "topology `%s`: %s", path, what);
        sv_diag_add(&L->diag, NULL, path, NULL, "%s: %s", what, strerror(e));
        return 0;
}

/* Read a whole file, at most SV_TOPO_MAX_FILE_SIZE bytes, and load it.
 * Returns -1 on ENOMEM, or when io_err is given and the file cannot be read
 * (io_err says why); else 0, problems of the content being diagnostics. */
static int load_file(struct loader *L, const char *name, const char *base_dir,
                     struct sl_error *io_err)
{
        const char *path = intern_file(L, name);
        if (!path)
                return sl_error_set(io_err, ENOMEM, "load topology `%s`", name);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return unreadable(L, path, io_err, errno, "open");
        if (!S_ISREG(st.st_mode)) {
                sv_diag_add(&L->diag, NULL, path, NULL, "not a regular file");
                return 0;
        }
        if (st.st_size > (off_t)SV_TOPO_MAX_FILE_SIZE) {
                sv_diag_add(&L->diag, NULL, path, NULL, "file is larger than %u bytes",
                            SV_TOPO_MAX_FILE_SIZE);
                return 0;
        }
        /* one byte more than the limit: a file growing under us is caught */
        _cleanup_free_ char *buf = malloc(SV_TOPO_MAX_FILE_SIZE + 1);
        if (!buf)
                return sl_error_set(io_err, ENOMEM, "load topology `%s`", path);
        size_t len = 0;
        for (;;) {
                ssize_t n = read(fd, buf + len, SV_TOPO_MAX_FILE_SIZE + 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return unreadable(L, path, io_err, errno, "read");
                if (n == 0 || (len += (size_t)n) > SV_TOPO_MAX_FILE_SIZE)
                        break;
        }
        if (len > SV_TOPO_MAX_FILE_SIZE) {
                sv_diag_add(&L->diag, NULL, path, NULL, "file is larger than %u bytes",
                            SV_TOPO_MAX_FILE_SIZE);
                return 0;
        }
        if (load_text(L, path, base_dir, buf, len) < 0)
                return sl_error_set(io_err, ENOMEM, "load topology `%s`", path);
        return 0;
}

static int is_topology_name(const char *name)
{
        size_t n = strlen(name);
        if (name[0] == '.') /* editors' swap files, dpkg leftovers */
                return 0;
        return (n > 5 && !strcmp(name + n - 5, ".yaml")) ||
               (n > 4 && !strcmp(name + n - 4, ".yml")) ||
               (n > 5 && !strcmp(name + n - 5, ".json"));
}

static int cmp_strp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char ***names)
{
        for (char **p = *names; p && *p; p++)
                free(*p);
        free(*names);
}

/* Every .yaml/.yml/.json file of a directory, sorted by name; the file
 * called over_name (if any) read from over_text instead, present or not. */
static int load_dir(struct loader *L, const char *dir, const char *base_dir, const char *over_name,
                    const char *over_text, struct sl_error *err)
{
        DIR *d = opendir(dir);
        if (!d)
                return sl_error_errno(err, "open topology directory `%s`", dir);
        __attribute__((cleanup(free_names))) char **names =
            calloc(SV_TOPO_MAX_FILES + 1, sizeof *names);
        size_t n = 0;
        struct dirent *de;
        int too_many = 0;
        while (names && (de = readdir(d))) {
                if (!is_topology_name(de->d_name))
                        continue;
                if (n == SV_TOPO_MAX_FILES) {
                        too_many = 1;
                        break;
                }
                if (!(names[n++] = strdup(de->d_name)))
                        break;
        }
        closedir(d);
        int have_over = 0;
        for (size_t i = 0; over_name && names && i < n; i++)
                have_over |= names[i] && !strcmp(names[i], over_name);
        if (over_name && names && !have_over && n < SV_TOPO_MAX_FILES && !too_many)
                names[n++] = strdup(over_name);
        if (!names || (n && !names[n - 1]))
                return sl_error_set(err, ENOMEM, "read topology directory `%s`", dir);
        if (too_many)
                sv_diag_add(&L->diag, NULL, dir, NULL, "more than %d topology files",
                            SV_TOPO_MAX_FILES);
        qsort(names, n, sizeof *names, cmp_strp);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s/%s", dir, names[i]) < 0)
                        return sl_error_set(err, ENOMEM, "load topology `%s`", dir);
                int over = over_name && !strcmp(names[i], over_name);
                const char *file = over ? intern_file(L, path) : NULL; /* positions point here */
                int r =
                    over ? (file ? load_text(L, file, base_dir, over_text, strlen(over_text)) : -1)
                         : load_file(L, path, base_dir, NULL);
                if (r < 0)
                        return sl_error_set(err, ENOMEM, "load topology `%s`", dir);
        }
        return 0;
}

/* ---- finishing ---- */

static int finish(struct loader *L, const char *what, struct sv_topology **out,
                  struct sv_diag *diag, struct sl_error *err)
{
        if (sv_check_topology(L->t, &L->diag) < 0 || L->diag.oom)
                goto nomem;
        if (L->diag.n == 0) {
                *out = L->t;
                L->t = NULL;
                sv_diagbuf_release(&L->diag);
                return 0;
        }
        size_t n = L->diag.n + L->diag.dropped;
        struct sv_diag tmp = {0};
        if (sv_diag_finish(&L->diag, &tmp) < 0)
                goto nomem;
        if (n > 1)
                sl_error_set(err, 0, "invalid topology %s: %s (and %zu more error%s)", what,
                             tmp.msgs[0], n - 1, n == 2 ? "" : "s");
        else
                sl_error_set(err, 0, "invalid topology %s: %s", what, tmp.msgs[0]);
        if (err)
                err->code = EINVAL; /* a verdict on the input, not a failed call */
        if (diag) {
                char **m = realloc(diag->msgs, (diag->n + tmp.n) * sizeof *m);
                if (!m) {
                        sv_diag_free(&tmp);
                        goto nomem;
                }
                memcpy(m + diag->n, tmp.msgs, tmp.n * sizeof *m);
                diag->msgs = m;
                diag->n += tmp.n;
                free(tmp.msgs);
        } else {
                sv_diag_free(&tmp);
        }
        sv_diagbuf_release(&L->diag);
        return -1;
nomem:
        sv_diagbuf_release(&L->diag);
        return sl_error_set(err, ENOMEM, "load topology %s", what);
}

static int loader_init(struct loader *L, struct sl_error *err)
{
        memset(L, 0, sizeof *L);
        /* libsodium picks its BLAKE2b implementation here; idempotent and
         * thread-safe */
        if (sodium_init() < 0)
                return sl_error_set(err, 0, "libsodium failed to initialise");
        L->t = calloc(1, sizeof *L->t);
        if (!L->t)
                return sl_error_set(err, ENOMEM, "load topology");
        L->diag.t = L->t;
        return 0;
}

int sv_topology_load(const char *path, struct sv_topology **out, struct sv_diag *diag,
                     struct sl_error *err)
{
        struct loader L;
        struct stat st;
        char base[PATH_MAX];
        if (loader_init(&L, err) < 0)
                return -1;
        int r = -1;
        if (stat(path, &st) < 0) {
                sl_error_errno(err, "topology `%s`", path);
        } else if (S_ISDIR(st.st_mode)) {
                /* relative policy files resolve against the directory, made
                 * absolute now: the daemon may chdir later */
                if (!realpath(path, base))
                        snprintf(base, sizeof base, "%s", path);
                r = load_dir(&L, path, base, NULL, NULL, err);
        } else {
                _cleanup_free_ char *copy = strdup(path);
                if (!copy || !realpath(dirname(copy), base))
                        snprintf(base, sizeof base, ".");
                r = load_file(&L, path, base, err);
        }
        if (r == 0)
                r = finish(&L, path, out, diag, err);
        sv_topology_free(L.t);
        sv_diagbuf_release(&L.diag);
        return r;
}

int sv_topology_load_string(const char *name, const char *text, struct sv_topology **out,
                            struct sv_diag *diag, struct sl_error *err)
{
        struct loader L;
        if (loader_init(&L, err) < 0)
                return -1;
        _cleanup_free_ char *copy = strchr(name, '/') ? strdup(name) : NULL;
        const char *base = copy ? dirname(copy) : NULL;
        const char *file = intern_file(&L, name);
        int r = file ? load_text(&L, file, base, text, strlen(text)) : -1;
        if (r < 0)
                r = sl_error_set(err, ENOMEM, "load topology %s", name);
        else
                r = finish(&L, name, out, diag, err);
        sv_topology_free(L.t);
        sv_diagbuf_release(&L.diag);
        return r;
}

/* ---- queries ---- */

struct sv_slice_spec *sv_topology_find(const struct sv_topology *t, const char *path)
{
        struct sv_slice_spec *arr = t->slices, *found = NULL;
        size_t n = t->n_slices;
        if (!path || path[0] != '/')
                return NULL;
        const char *p = path + 1;
        while (*p) {
                size_t len = strcspn(p, "/");
                found = NULL;
                for (size_t i = 0; i < n && !found; i++)
                        if (arr[i].name && strlen(arr[i].name) == len &&
                            !strncmp(arr[i].name, p, len))
                                found = &arr[i];
                if (!found)
                        return NULL;
                p += len;
                if (*p == '/')
                        p++;
                arr = found->children;
                n = found->n_children;
        }
        return found;
}

static int walk_group(struct sv_slice_spec *arr, size_t n, sv_visit_fn fn, void *ctx)
{
        unsigned max = 0;
        for (size_t i = 0; i < n; i++)
                if (arr[i].start_rank > max)
                        max = arr[i].start_rank;
        /* ranks are at most n - 1: O(n * ranks) over a group stays small and
         * needs no allocation */
        for (unsigned rank = 0; rank <= max; rank++)
                for (size_t i = 0; i < n; i++) {
                        if (arr[i].start_rank != rank)
                                continue;
                        int r = fn(&arr[i], ctx);
                        if (r == 0)
                                r = walk_group(arr[i].children, arr[i].n_children, fn, ctx);
                        if (r != 0)
                                return r;
                }
        return 0;
}

int sv_topology_walk(const struct sv_topology *t, sv_visit_fn fn, void *ctx)
{
        return walk_group(t->slices, t->n_slices, fn, ctx);
}

int sv_topology_load_dir_with(const char *dir, const char *name, const char *text,
                              struct sv_topology **out, struct sv_diag *diag, struct sl_error *err)
{
        struct loader L;
        char base[PATH_MAX];
        if (loader_init(&L, err) < 0)
                return -1;
        if (!realpath(dir, base))
                snprintf(base, sizeof base, "%s", dir);
        int r = load_dir(&L, dir, base, name, text, err);
        if (r == 0)
                r = finish(&L, dir, out, diag, err);
        sv_topology_free(L.t);
        sv_diagbuf_release(&L.diag);
        return r;
}
