"""Where a study lives: Optuna's RDB storage (SQLite by default, or any database URL
SQLAlchemy takes), opened with a heartbeat so that the trials of a process that died
are found, failed and retried; and which trials count towards ``--trials``.

A trial *counts* once it has an outcome of its own: complete, pruned, or failed
because of its sample (a spec that does not validate, training that cannot go
on). A trial whose process died (killed, machine lost) or was interrupted does
not count: it is failed and a copy with the same parameters is queued (Optuna's
``RetryHeartbeatStaleTrialCallback``), which the next free worker runs.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import time
from typing import Any

from modular_nn.errors import TuneError
from modular_nn.tune import require_optuna

#: How many times a trial whose process died is queued again.
MAX_RETRY = 3
#: user attribute of a trial that failed by itself (its message): such a trial counts
ERROR_ATTR = "error"
#: study user attribute identifying the search (spec, space, metric, direction)
SEARCH_ATTR = "modular_nn_search"


def open_storage(url: str, heartbeat: int) -> Any:
    """An ``optuna.storages.RDBStorage`` for ``url`` recording a heartbeat every
    ``heartbeat`` seconds; a running trial silent for twice that is failed and retried."""
    optuna = require_optuna()
    import sqlalchemy.exc

    storages = optuna.storages
    retry = getattr(storages, "RetryHeartbeatStaleTrialCallback", None)
    retry_kw = (
        {"heartbeat_stale_trial_callback": retry(max_retry=MAX_RETRY)}
        if retry is not None
        else {"failed_trial_callback": storages.RetryFailedTrialCallback(max_retry=MAX_RETRY)}
    )
    sqlite = url.startswith("sqlite")
    # SQLite: pysqlite begins no transaction of its own (isolation_level None); every
    # transaction begins with BEGIN IMMEDIATE (below), waiting up to a minute for the lock
    engine_kwargs = {"connect_args": {"timeout": 60, "isolation_level": None}} if sqlite else {}
    for attempt in range(6):
        try:
            storage = storages.RDBStorage(
                url, engine_kwargs=engine_kwargs, heartbeat_interval=heartbeat, **retry_kw
            )
        except sqlalchemy.exc.ArgumentError as exc:
            raise TuneError(
                f"expected a database URL that SQLAlchemy takes for --storage "
                f"(sqlite:///tune.db, postgresql://host/db), received {url!r}: {exc}"
            ) from None
        except (ImportError, ValueError) as exc:
            raise TuneError(f"cannot open the study storage {url}: {exc}") from None
        except (sqlalchemy.exc.SQLAlchemyError, optuna.exceptions.StorageInternalError) as exc:
            # processes creating the tables at the same moment: the next attempt loads them
            if attempt == 5:
                raise TuneError(f"cannot open the study storage {url}: {exc}") from None
            time.sleep(0.2 * (attempt + 1))
            continue
        if sqlite:
            _one_transaction_at_a_time(storage.engine)
        return storage
    raise AssertionError("unreachable")  # pragma: no cover


def _one_transaction_at_a_time(engine: Any) -> None:
    """Make every SQLite transaction take the database's write lock when it begins.

    Optuna takes a queued trial by reading that it is WAITING and then setting it
    RUNNING, relying on ``SELECT ... FOR UPDATE``, which SQLite ignores; and pysqlite
    begins a transaction only at its first write. Two processes could then both take
    the same trial (and run it twice). With ``BEGIN IMMEDIATE`` the read and the write
    are one atomic step. Database servers (PostgreSQL, MySQL) lock the row themselves.
    """
    import sqlalchemy

    sqlalchemy.event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))


def search_identity(
    spec: dict[str, Any], space: dict[str, Any], metric: str, direction: str
) -> dict[str, str]:
    """What makes two runs the same search: resuming, or joining from another machine,
    needs all of it equal."""
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]
    return {
        "spec": digest,
        "space": json.dumps(space, sort_keys=True),
        "metric": metric,
        "direction": direction,
    }


def open_study(
    storage: Any,
    name: str,
    identity: dict[str, str],
    *,
    sampler: Any = None,
    pruner: Any = None,
    url: str = "",
) -> Any:
    """Create the study ``name`` or load it; a study that exists must be this search."""
    optuna = require_optuna()
    direction = identity["direction"]
    for attempt in range(6):
        try:
            study = optuna.create_study(
                storage=storage,
                study_name=name,
                direction=direction,
                sampler=sampler,
                pruner=pruner,
                load_if_exists=True,
            )
            break
        except Exception as exc:  # noqa: BLE001 - a race on creation: load it next time
            if attempt == 5:
                raise TuneError(f"cannot open study {name!r} in {url}: {exc}") from None
            time.sleep(0.2 * (attempt + 1))
    known = study.user_attrs.get(SEARCH_ATTR)
    if known is None:
        study.set_user_attr(SEARCH_ATTR, identity)
    elif known != identity:
        differ = [key for key in identity if known.get(key) != identity[key]]
        raise TuneError(
            f"study {name!r} in {url} belongs to another search (its "
            f"{', '.join(differ)} differ from this one's); run the command that started it, "
            "or give --study NAME (or another --storage) for a new study"
        )
    return study


def counts(trial: Any) -> bool:
    """Whether ``trial`` (a ``FrozenTrial``) counts towards the target number of trials."""
    state = trial.state.name
    return state in ("COMPLETE", "PRUNED") or (state == "FAIL" and ERROR_ATTR in trial.user_attrs)


def progress(study: Any) -> tuple[int, int]:
    """``(finished, running)``: trials that count, and trials running now (anywhere)."""
    trials = study.get_trials(deepcopy=False)
    return sum(map(counts, trials)), sum(t.state.name == "RUNNING" for t in trials)


def is_surplus(study: Any, number: int, target: int) -> bool:
    """Whether trial ``number``, just started, would go beyond ``target``: ``target``
    trials have counted already or were started before it and are still running. Of
    trials started at the same moment by several processes, the later numbers give way."""
    ahead = 0
    for t in study.get_trials(deepcopy=False):
        if t.number != number and (counts(t) or (t.state.name == "RUNNING" and t.number < number)):
            ahead += 1
    return ahead >= target


def give_back(study: Any, trial_id: int) -> None:
    """Return a trial started in surplus to the queue (WAITING), for a later worker."""
    optuna = require_optuna()
    study._storage.set_trial_state_values(trial_id, optuna.trial.TrialState.WAITING)


def fail_and_retry(study: Any, trial_id: int) -> None:
    """Fail a trial that was interrupted (not by its own fault) and queue a copy."""
    optuna = require_optuna()
    storage = study._storage
    state = optuna.trial.TrialState.FAIL
    try:
        if not storage.set_trial_state_values(trial_id, state):
            return
    except optuna.exceptions.UpdateFinishedTrialError:
        return
    callback = (
        storage.get_heartbeat_stale_trial_callback()
        if hasattr(storage, "get_heartbeat_stale_trial_callback")
        else storage.get_failed_trial_callback()
    )
    if callback is not None:
        callback(study, storage.get_trial(trial_id))


def fail_stale(study: Any) -> None:
    """Fail (and queue again) the running trials whose heartbeat stopped, and those whose
    process died before it recorded a first heartbeat (Optuna alone never fails those:
    a trial with no heartbeat is not stale to it, and the study would wait forever)."""
    optuna = require_optuna()
    optuna.storages.fail_stale_trials(study)
    storage = getattr(study._storage, "_backend", study._storage)  # under Optuna's cache
    interval = getattr(storage, "heartbeat_interval", None)
    engine = getattr(storage, "engine", None)
    if not interval or engine is None:
        return
    grace = datetime.timedelta(seconds=2 * interval)
    running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    old = [
        t
        for t in running
        if t.datetime_start is not None and datetime.datetime.now() - t.datetime_start > grace
    ]
    if not old:
        return
    import sqlalchemy

    with engine.connect() as connection:
        beating = {
            row[0]
            for row in connection.execute(sqlalchemy.text("SELECT trial_id FROM trial_heartbeats"))
        }
    for trial in old:
        if trial._trial_id not in beating:
            fail_and_retry(study, trial._trial_id)
