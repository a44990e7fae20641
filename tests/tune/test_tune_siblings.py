"""The rule by which workers sharing a study wait for each other (harness.tune.siblings).

The worker tests race real processes; these pin each case of the rule, including the one a
CI run caught: a higher-numbered trial that looked before a lower-numbered one had announced
its point measured it too.
"""

from __future__ import annotations

from types import SimpleNamespace

from harness.tune.siblings import ahead_of


def trial(number, run=None, key=None, claimed=False):
    attrs = {}
    if run is not None:
        attrs["run_id"] = run
    if key is not None:
        attrs["point_key"] = key
    if claimed:
        attrs["claimed"] = True
    return SimpleNamespace(number=number, user_attrs=attrs)


LIVE = {1, 2}


def test_a_lower_trial_still_choosing_its_point_is_waited_for():
    assert ahead_of(5, "p", [trial(3, run=1)], LIVE) == [3]  # run announced, point not yet
    assert ahead_of(5, "p", [trial(3)], LIVE) == [3]  # entered, nothing announced yet


def test_a_lower_trial_on_the_same_point_is_waited_for_and_another_point_is_not():
    assert ahead_of(5, "p", [trial(3, 1, "p")], LIVE) == [3]
    assert ahead_of(5, "p", [trial(3, 1, "q")], LIVE) == []


def test_a_higher_trial_is_never_waited_for_unless_this_one_is_a_retry_and_it_claimed():
    assert ahead_of(5, "p", [trial(7, 2, "p"), trial(8)], LIVE) == []
    assert ahead_of(5, "p", [trial(7, 2, "p", claimed=True)], LIVE) == []
    assert ahead_of(5, "p", [trial(7, 2, "p", claimed=True)], LIVE, retried=True) == [7]
    assert ahead_of(5, "p", [trial(7, 2, "p")], LIVE, retried=True) == []  # it waits for us


def test_a_dead_workers_trial_is_ignored_and_the_trial_itself_is_skipped():
    assert ahead_of(5, "p", [trial(3, 9, "p"), trial(4, 9)], LIVE) == []
    assert ahead_of(5, "p", [trial(5, 1, "p")], LIVE) == []


def test_two_trials_still_checking_never_wait_for_each_other():
    # a trial is claimed only once it has stopped waiting, so two that are both checking are
    # unclaimed: whatever their numbers, retries or not, at most one of them waits
    for ra in (False, True):
        for rb in (False, True):
            a, b = trial(3, 1, "p"), trial(4, 2, "p")
            waits = [ahead_of(3, "p", [a, b], LIVE, ra), ahead_of(4, "p", [a, b], LIVE, rb)]
            assert waits == [[], [3]]


class FakeTrial(SimpleNamespace):
    def set_user_attr(self, key, value):
        self.user_attrs[key] = value


class FakeStudy:
    """RUNNING trials as a sequence of snapshots, one per poll (the last one repeats)."""

    def __init__(self, snapshots):
        self.snapshots, self.polls, self.stale_checks = list(snapshots), 0, 0

    def get_trials(self, deepcopy, states):
        snap = self.snapshots[min(self.polls, len(self.snapshots) - 1)]
        self.polls += 1
        return snap


def _fast(monkeypatch, study=None):
    from harness.tune import siblings

    monkeypatch.setattr(siblings, "POLL_S", 0.0)
    monkeypatch.setattr(siblings, "WAIT_S", 5.0)
    if study is not None:
        monkeypatch.setattr(siblings, "STALE_CHECK_S", 0.0)
        monkeypatch.setattr(siblings, "_fail_stale", lambda s: setattr(
            s, "stale_checks", s.stale_checks + 1) or s.snapshots.append([]))
    return siblings


def test_waiting_ends_when_the_lower_trial_announces_another_point(monkeypatch):
    siblings = _fast(monkeypatch)
    me = FakeTrial(number=5, user_attrs={})
    me.study = FakeStudy([[trial(3, 1)], [trial(3, 1)], [trial(3, 1, "q")]])
    siblings.wait_for_siblings(me, "p", lambda: LIVE, retried=False)
    assert me.study.polls == 3 and me.user_attrs["claimed"] is True


def test_a_dead_hosts_trial_stops_blocking_once_its_heartbeat_check_fails_it(monkeypatch):
    stuck = [trial(3, 1)]  # choosing for ever: its worker died on another host
    study = FakeStudy([stuck])
    siblings = _fast(monkeypatch, study)
    me = FakeTrial(number=5, user_attrs={}, study=study)
    siblings.wait_for_siblings(me, "p", lambda: LIVE, retried=False)
    assert study.stale_checks >= 1 and me.user_attrs["claimed"] is True
