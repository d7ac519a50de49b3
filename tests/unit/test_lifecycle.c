/* The lifecycle table and the restart policy, as specifications. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "supervisor/lifecycle.h"

struct step_case {
        enum sv_state from;
        enum sv_event ev;
        enum sv_action action;
        enum sv_state to; /* SV_ST__COUNT: decided by the restart policy */
};

static const struct step_case steps[] = {
        /* starting up */
        { SV_ST_STOPPED, SV_EV_START, SV_ACT_WAIT_DEPS, SV_ST_WAITING },
        { SV_ST_WAITING, SV_EV_DEPS_READY, SV_ACT_SPAWN, SV_ST_STARTING },
        { SV_ST_STARTING, SV_EV_SPAWNED, SV_ACT_ARM_HEALTH, SV_ST_RUNNING },
        { SV_ST_RUNNING, SV_EV_HEALTHY, SV_ACT_NONE, SV_ST_READY },
        /* ending: the policy decides */
        { SV_ST_STARTING, SV_EV_SPAWN_FAILED, SV_ACT_ENDED, SV_ST_STARTING },
        { SV_ST_RUNNING, SV_EV_EXITED, SV_ACT_ENDED, SV_ST_RUNNING },
        { SV_ST_READY, SV_EV_EXITED, SV_ACT_ENDED, SV_ST_READY },
        /* health */
        { SV_ST_READY, SV_EV_UNHEALTHY, SV_ACT_RESTART, SV_ST_STOPPING },
        { SV_ST_RUNNING, SV_EV_UNHEALTHY, SV_ACT_RESTART, SV_ST_STOPPING },
        /* stopping */
        { SV_ST_READY, SV_EV_STOP, SV_ACT_TERM, SV_ST_STOPPING },
        { SV_ST_STOPPING, SV_EV_STOP_TIMEOUT, SV_ACT_KILL, SV_ST_STOPPING },
        { SV_ST_STOPPING, SV_EV_EXITED, SV_ACT_STOPPED, SV_ST_STOPPED },
        { SV_ST_WAITING, SV_EV_STOP, SV_ACT_CANCEL, SV_ST_STOPPED },
        { SV_ST_BACKOFF, SV_EV_STOP, SV_ACT_CANCEL, SV_ST_STOPPED },
        { SV_ST_FAILED, SV_EV_STOP, SV_ACT_NONE, SV_ST_STOPPED },
        { SV_ST_DOWN, SV_EV_STOP, SV_ACT_NONE, SV_ST_STOPPED },
        /* back-off and recovery */
        { SV_ST_BACKOFF, SV_EV_BACKOFF_DONE, SV_ACT_WAIT_DEPS, SV_ST_WAITING },
        { SV_ST_FAILED, SV_EV_START, SV_ACT_WAIT_DEPS, SV_ST_WAITING },
        { SV_ST_DOWN, SV_EV_START, SV_ACT_WAIT_DEPS, SV_ST_WAITING },
        /* events that cannot happen are flagged, not acted on */
        { SV_ST_STOPPED, SV_EV_EXITED, SV_ACT_INVALID, SV_ST__COUNT },
        { SV_ST_READY, SV_EV_SPAWNED, SV_ACT_INVALID, SV_ST__COUNT },
        { SV_ST_BACKOFF, SV_EV_EXITED, SV_ACT_INVALID, SV_ST__COUNT },
};

static void test_transitions_follow_the_table(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
                const struct step_case *c = &steps[i];
                const struct sv_transition *t = sv_lifecycle_step(c->from, c->ev);
                print_message("%s --%s--> %s\n", sv_state_name(c->from), sv_event_name(c->ev),
                              sv_state_name(c->to));
                assert_int_equal(t->action, c->action);
                if (c->action != SV_ACT_INVALID)
                        assert_int_equal(t->next, c->to);
        }
}

static void test_every_cell_is_defined(void **state)
{
        (void)state;
        /* every (state, event) pair has an explicit entry: an action, or
         * INVALID — never a zero-filled hole that would read as "do nothing,
         * go to stopped" */
        for (int st = 0; st < SV_ST__COUNT; st++)
                for (int ev = 0; ev < SV_EV__COUNT; ev++) {
                        const struct sv_transition *t = sv_lifecycle_step(st, ev);
                        if (t->action == SV_ACT_INVALID)
                                continue;
                        assert_true(t->next < SV_ST__COUNT);
                        if (t->action == SV_ACT_NONE && t->next == SV_ST_STOPPED)
                                assert_true(st == SV_ST_STOPPED || ev == SV_EV_STOP);
                }
        assert_int_equal(sv_lifecycle_step(SV_ST__COUNT, SV_EV_START)->action, SV_ACT_INVALID);
}

static const struct sv_restart policy_always = { SV_RESTART_ALWAYS, 100, 1000, 5, 60000 };
static const struct sv_restart policy_failure = { SV_RESTART_ON_FAILURE, 100, 1000, 5, 60000 };
static const struct sv_restart policy_never = { SV_RESTART_NEVER, 100, 1000, 5, 60000 };

struct decide_case {
        const char *what;
        const struct sv_restart *policy;
        struct sv_end end;
        unsigned in_window, consecutive;
        enum sv_state next;
        uint64_t delay;
};

static const struct decide_case decisions[] = {
        { "clean exit under on-failure stays down", &policy_failure, { SV_END_EXIT, 0, "" }, 0, 0,
          SV_ST_DOWN, 0 },
        { "exit 1 under on-failure backs off", &policy_failure, { SV_END_EXIT, 1, "" }, 0, 1,
          SV_ST_BACKOFF, 100 },
        { "second failure doubles the delay", &policy_failure, { SV_END_SIGNAL, 11, "" }, 1, 2,
          SV_ST_BACKOFF, 200 },
        { "fourth failure: 800 ms", &policy_failure, { SV_END_OOM, 9, "" }, 3, 4, SV_ST_BACKOFF,
          800 },
        { "the delay is capped", &policy_failure, { SV_END_EXIT, 1, "" }, 4, 9, SV_ST_BACKOFF,
          1000 },
        { "crash loop: the limit reached fails", &policy_failure, { SV_END_EXIT, 1, "" }, 5, 6,
          SV_ST_FAILED, 0 },
        { "clean exit under always restarts", &policy_always, { SV_END_EXIT, 0, "" }, 0, 0,
          SV_ST_BACKOFF, 100 },
        { "never stays down after a crash", &policy_never, { SV_END_SIGNAL, 6, "" }, 0, 1,
          SV_ST_DOWN, 0 },
        { "an unhealthy restart happens even under never", &policy_never,
          { SV_END_UNHEALTHY, 0, "" }, 0, 1, SV_ST_BACKOFF, 100 },
        { "a spawn failure backs off", &policy_failure, { SV_END_SPAWN_FAILED, 2, "" }, 0, 1,
          SV_ST_BACKOFF, 100 },
};

static void test_restart_policy_decides_backoff_down_or_failed(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof decisions / sizeof decisions[0]; i++) {
                const struct decide_case *c = &decisions[i];
                uint64_t delay = 0;
                print_message("%s\n", c->what);
                enum sv_state next =
                        sv_restart_decide(c->policy, &c->end, c->in_window, c->consecutive, &delay);
                assert_int_equal(next, c->next);
                if (next == SV_ST_BACKOFF)
                        assert_int_equal(delay, c->delay);
        }
}

static void test_end_descriptions_name_the_cause(void **state)
{
        (void)state;
        char buf[300];
        struct sv_end e = { SV_END_EXIT, 3, "" };
        sv_end_describe(&e, buf, sizeof buf);
        assert_string_equal(buf, "exited (code 3)");
        e = (struct sv_end){ SV_END_SIGNAL, 11, "" };
        sv_end_describe(&e, buf, sizeof buf);
        assert_string_equal(buf, "killed (SIGSEGV)");
        e = (struct sv_end){ SV_END_OOM, 9, "" };
        sv_end_describe(&e, buf, sizeof buf);
        assert_string_equal(buf, "oom-killed");
        e = (struct sv_end){ SV_END_SPAWN_FAILED, 2, "exec: `/x`: No such file or directory" };
        sv_end_describe(&e, buf, sizeof buf);
        assert_string_equal(buf, "spawn-failed (exec: `/x`: No such file or directory)");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_transitions_follow_the_table),
                cmocka_unit_test(test_every_cell_is_defined),
                cmocka_unit_test(test_restart_policy_decides_backoff_down_or_failed),
                cmocka_unit_test(test_end_descriptions_name_the_cause),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
