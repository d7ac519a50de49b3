/* The state report: RUNTIME_DIR/state.json, rewritten (atomically) soon
 * after any change — every change within one loop turn, and within the
 * debounce interval, lands in one write. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/cleanup.h"
#include "supervisor/supervisor.h"

/* Coalesce bursts (a reload touching 1000 slices) into one write. */
#define SV_REPORT_DEBOUNCE_MS 50
/* Resource figures are read from cgroupfs at most this often per slice: a
 * report of 1000 slices otherwise reads 4000 files on every state change. */
#define SV_STATS_MAX_AGE_MS 1000

static int slice_stats(struct sv_slice *s, struct sb_cgroup_stats *st)
{
        uint64_t now = uv_now(s->sv->loop);
        if (!s->cg)
                return -1;
        if (!s->stats_at_ms || now - s->stats_at_ms >= SV_STATS_MAX_AGE_MS) {
                if (sb_cgroup_stats(s->cg, &s->stats, NULL) < 0)
                        return -1;
                s->stats_at_ms = now ? now : 1;
        }
        *st = s->stats;
        return 0;
}

json_t *sv_report_slice_json(struct sv_slice *s)
{
        char reason[SL_ERROR_MSG_MAX + 64];
        sv_end_describe(&s->last_end, reason, sizeof reason);
        json_t *o = json_object();
        json_object_set_new(o, "path", json_string(s->path));
        json_object_set_new(o, "state", json_string(sv_state_name(s->state)));
        json_object_set_new(o, "reason",
                            s->last_end.kind == SV_END_NONE ? json_null() : json_string(reason));
        json_object_set_new(o, "restarts", json_integer(s->restarts));
        json_object_set_new(o, "pid", s->running ? json_integer(s->proc.pid) : json_null());
        json_object_set_new(o, "uid", json_integer(s->uid));
        json_object_set_new(o, "group", json_boolean(!sv_slice_runs(s->spec)));
        sv_package_json(s, o);
        if (s->state == SV_ST_BACKOFF) {
                uint64_t now = uv_now(s->sv->loop);
                json_object_set_new(
                    o, "next_try_ms",
                    json_integer((json_int_t)(s->next_try_ms > now ? s->next_try_ms - now : 0)));
        }
        if (s->last_end.kind == SV_END_EXIT)
                json_object_set_new(o, "exit_code", json_integer(s->last_end.code));
        else if (s->last_end.kind == SV_END_SIGNAL || s->last_end.kind == SV_END_OOM)
                json_object_set_new(o, "signal", json_integer(s->last_end.code));
        json_object_set_new(o, "oom_killed", json_boolean(s->last_end.kind == SV_END_OOM));
        json_t *res = json_object();
        struct sb_cgroup_stats st;
        if (slice_stats(s, &st) == 0) {
                json_object_set_new(res, "memory_current",
                                    json_integer((json_int_t)st.memory_current));
                json_object_set_new(res, "memory_peak", json_integer((json_int_t)st.memory_peak));
                json_object_set_new(res, "cpu_usec", json_integer((json_int_t)st.cpu_usec));
                json_object_set_new(res, "pids", json_integer((json_int_t)st.pids_current));
        }
        json_object_set_new(o, "resources", res);
        json_t *limits = json_object();
        const struct sv_resources *r = &s->spec->res;
        if (r->memory)
                json_object_set_new(limits, "memory", json_integer((json_int_t)r->memory));
        if (r->pids)
                json_object_set_new(limits, "pids", json_integer((json_int_t)r->pids));
        if (r->files)
                json_object_set_new(limits, "files", json_integer((json_int_t)r->files));
        if (r->cpu_weight)
                json_object_set_new(limits, "cpu_weight", json_integer((json_int_t)r->cpu_weight));
        if (r->cores)
                json_object_set_new(limits, "cores", json_string(r->cores));
        json_object_set_new(o, "limits", limits);
        unsigned used, served;
        sv_sessions_count(s, &used, &served);
        json_t *sess = json_object();
        json_object_set_new(sess, "used", json_integer(used));
        json_object_set_new(sess, "served", json_integer(served));
        json_t *ann = json_array();
        for (size_t i = 0; i < s->n_announced; i++)
                json_array_append_new(ann, json_string(s->announced[i]));
        json_object_set_new(sess, "announced", ann);
        if (s->donated_out || s->donated_in) {
                json_object_set_new(sess, "memory_donated",
                                    json_integer((json_int_t)s->donated_out));
                json_object_set_new(sess, "memory_received",
                                    json_integer((json_int_t)s->donated_in));
        }
        json_object_set_new(o, "sessions", sess);
        /* what the slice published through the platform's `report` */
        json_t *published = s->report_json ? json_loads(s->report_json, 0, NULL) : NULL;
        json_object_set_new(o, "report", published ? published : json_null());
        return o;
}

int sv_report_write(struct sv_supervisor *sv, struct sl_error *err)
{
        sv->report_dirty = 0;
        json_t *root = json_object();
        json_object_set_new(root, "sliced_pid", json_integer(getpid()));
        json_object_set_new(root, "topology", json_string(sv->topology_path));
        json_object_set_new(root, "generation", json_integer(sv->generation));
        json_object_set_new(root, "limits_enforced", json_boolean(sv->have_cgroups));
        json_object_set_new(root, "shutting_down", json_boolean(sv->shutting_down));
        json_object_set_new(root, "written_at", json_integer((json_int_t)time(NULL)));
        json_t *arr = json_array();
        for (size_t i = 0; i < sv->n_slices; i++)
                json_array_append_new(arr, sv_report_slice_json(sv->slices[i]));
        json_object_set_new(root, "slices", arr);

        char path[PATH_MAX + 16], tmp[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/state.json", sv->cfg.runtime_dir);
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        /* compact: a thousand slices make this the loop's longest step */
        int r = json_dump_file(root, tmp, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(root);
        if (r < 0)
                return sl_error_set(err, EIO, "write `%s`", tmp);
        if (rename(tmp, path) < 0)
                return sl_error_errno(err, "rename `%s` to `%s`", tmp, path);
        return 0;
}

static void report_cb(uv_timer_t *t)
{
        struct sv_supervisor *sv = t->data;
        struct sl_error err;
        if (sv_report_write(sv, &err) < 0)
                sv_log(sv, 3, "state report: %s", err.msg);
}

void sv_report_mark_dirty(struct sv_supervisor *sv)
{
        if (sv->report_dirty)
                return;
        sv->report_dirty = 1;
        uv_timer_start(&sv->report_timer, report_cb, SV_REPORT_DEBOUNCE_MS, 0);
}
