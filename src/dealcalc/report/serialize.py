"""One serializer for every result: ``to_json`` (plain JSON values) and ``to_frame`` (a DataFrame).

Every ``--json`` and ``--out`` output of the CLI goes through here, so keys are the same
everywhere, stable, and documented with a JSON schema (docs/schema/result.schema.json; the
conventions in docs/cli.md, "Machine-readable output"). Every payload has the same envelope:

``schema_version``
    1 (raised only when a key changes meaning or goes away).
``kind``
    ``valuation``, ``comparison``, ``tariff_attribution``, ``tornado``, ``spider``, ``grid``,
    ``sobol``, ``morris``, ``breakeven``, ``montecarlo``, ``gates``, ``terms`` or ``flows``.
``run``
    What was run (:class:`dealcalc.analyses.provenance.RunInfo`): file, scenario, label (never
    "base" for a changed run), every change, price deck, basis and money year, discount rate,
    dealcalc version, and seed, draws and method for random analyses.
``units``
    ``{"money": "USD", "rates": "fraction", "basis": "real" | "nominal"}``: money is in US$
    (not millions), rates and probabilities are fractions.

Numbers that do not exist (an IRR with no root) are ``null``; keys are identifiers or
parameter paths, never display headers.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from functools import singledispatch
from typing import Any

import numpy as np
import pandas as pd

from dealcalc.analyses import Breakeven, GateDecisions, MonteCarlo, Valuation
from dealcalc.analyses.lenders import NEEDED as LENDER_NEEDED
from dealcalc.analyses.lenders import lender_risk
from dealcalc.analyses.provenance import RunInfo
from dealcalc.analyses.terms import TermsGrid

__all__ = ["SCHEMA_VERSION", "csv_text", "dumps", "to_frame", "to_json"]

SCHEMA_VERSION = 1

#: The kinds of DataFrame result, told apart by their ``attrs["run"].analysis``.
FRAME_KINDS = (
    "comparison",
    "tariff_attribution",
    "tornado",
    "spider",
    "grid",
    "sobol",
    "morris",
    "flows",
    "paired",
)


def plain(value: Any) -> Any:
    """A JSON value: numpy scalars as Python ones, NaN and infinities as None.

    Examples
    --------
    >>> plain(np.float64("nan")), plain(np.int64(3)), plain(np.bool_(True)), plain([1.5, float("inf")])
    (None, 3, True, [1.5, None])
    """
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _envelope(kind: str, run: RunInfo | dict[str, Any] | None, basis: str | None) -> dict[str, Any]:
    record = run.to_dict() if isinstance(run, RunInfo) else (run or {})
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": kind,
        "run": plain(record),
        "units": {"money": "USD", "rates": "fraction", "basis": basis or record.get("basis")},
    }


def _run_of(df: pd.DataFrame) -> RunInfo | None:
    run = df.attrs.get("run")
    return run if isinstance(run, RunInfo) else None


@singledispatch
def to_json(result: Any, **context: Any) -> dict[str, Any]:
    """``result`` as plain JSON values under the common envelope (see the module docstring).

    Parameters
    ----------
    result : Valuation, MonteCarlo, Breakeven, or a DataFrame from compare, tariff_attribution,
        tornado, spider, grid, sobol, morris (told apart by ``attrs["run"]``) or flow_metrics
    **context
        For ``flow_metrics`` frames (which have no deal): ``kind="flows"`` and ``run`` (a dict:
        file, rate, timing ...); for a comparison, ``attribution`` (a tariff_attribution frame,
        added as ``tariff_attribution``); for a breakeven, the ``target`` and ``target_basis``
        as given.

    Examples
    --------
    >>> import dealcalc as dc
    >>> payload = to_json(dc.evaluate(dc.load(dc.example_path("ussm-fwo"))))
    >>> payload["kind"], payload["run"]["label"], round(payload["metrics"]["irr"], 4)
    ('valuation', 'base case', 0.115)
    """
    raise TypeError(f"no JSON form for {type(result).__name__}")


@to_json.register
def _(result: Valuation, **context: Any) -> dict[str, Any]:
    v = result.deal.valuation
    out = _envelope("valuation", result.info, v.basis)
    metrics: dict[str, Any] = {}
    parties: dict[str, dict[str, Any]] = {}
    entities: dict[str, dict[str, Any]] = {}
    for name, values in result.values.items():
        party, _, metric = name.rpartition(".")
        x = plain(float(values[0]))
        if party in result.deal.entities:
            entities.setdefault(party, {})[metric] = x
        elif party:
            parties.setdefault(party, {})[metric] = x
        else:
            metrics[name] = x
    out["deal"] = result.deal.name
    out["scenario"] = result.scenario
    out["metrics"] = metrics
    out["parties"] = parties
    if entities:
        out["entities"] = entities
    out["settings"] = result.settings()
    if result.n_scenarios > 1:
        out["scenarios"] = result.n_scenarios
        out["metrics_by_scenario"] = {k: plain(a) for k, a in result.values.items()}
    return out


@to_json.register
def _(result: MonteCarlo, **context: Any) -> dict[str, Any]:
    out = _envelope("montecarlo", result.run, result.deal.valuation.basis)
    summary = result.summary()
    first = str(summary.index[0])
    convergence = result.convergence(first)
    out["deal"] = result.deal.name
    out["draws"] = result.n
    out["seed"] = result.seed
    out["method"] = result.method
    out["metrics"] = {str(m): plain(dict(row)) for m, row in summary.iterrows()}
    out["convergence"] = {
        "metric": first,
        "draws": [int(x) for x in convergence.index],
        "mean": plain(convergence["mean"].to_numpy()),
    }
    out["gates"] = {str(p): plain(dict(row)) for p, row in result.gate_summary().iterrows()}
    out["option_value_usd"] = plain(dict(result.option_value())) if result.built else {}
    asked = list(context.get("probabilities") or [])
    table = result.probabilities(asked) if asked else None
    out["probabilities"] = {
        str(q): plain({k: row[k] for k in ("metric", "op", "threshold", "probability", "std_error", "draws")})
        for q, row in (table.iterrows() if table is not None else ())
    }
    ranking = context.get("contributions")
    if ranking is not None:
        out["contributions"] = _contributions(ranking)
    if result.deal.finance.stressed and all(m in result.values for m in LENDER_NEEDED):
        risk = lender_risk(result)
        out["lenders"] = {
            str(q): {
                "estimate": plain(row["estimate"]),
                "std_error": plain(row["std_error"]),
                "what": row["what"],
            }
            for q, row in risk.iterrows()
        }
    out["until"] = (
        None
        if result.until is None
        else {
            "tolerance": result.until,
            "converged": bool(result.converged),
            "draws_used": result.n,
            "draws_planned": result.planned,
            "metrics": list(result.monitored),
            "percentiles": list(result.percentiles),
        }
    )
    return out


@to_json.register
def _(result: Breakeven, **context: Any) -> dict[str, Any]:
    out = _envelope("breakeven", result.run, result.basis)
    target_basis = context.get("target_basis") or result.basis
    out.update(
        {
            "path": result.path,
            "metric": result.metric,
            "target": plain(context.get("target", result.target)),
            "target_basis": target_basis,
            "basis": result.basis,
            "target_in_basis": plain(result.target),
            "value": plain(float(result.value[0])),
            "found": bool(result.found[0]),
            "base_value": plain(result.base_value),
            "bounds": plain(list(result.bounds)),
            "metric_at_low": plain(float(result.at_low[0])),
            "metric_at_high": plain(float(result.at_high[0])),
            "explanation": result.explain(),
        }
    )
    return out


def _contributions(df: pd.DataFrame) -> dict[str, Any]:
    """A risk ranking (:func:`dealcalc.analyses.contributions.contributions`) as JSON."""
    keys = ("metric", "method", "r_squared", "unexplained", "draws", "dropped")
    out: dict[str, Any] = {k: plain(df.attrs.get(k)) for k in keys}
    out["held_fixed"] = [str(x) for x in df.attrs.get("held_fixed", [])]
    out["rows"] = _rows(df, "source")
    return out


@to_json.register
def _(result: GateDecisions, **context: Any) -> dict[str, Any]:
    out = _envelope("gates", result.run, result.run.basis if result.run is not None else None)

    def records(df: pd.DataFrame) -> list[dict[str, Any]]:
        return [plain(row) for row in df.to_dict(orient="records")]

    out.update(
        {
            "gate": result.gate,
            "decision_years": list(result.decision_years),
            "metrics": list(result.metrics),
            "draws": result.n,
            "values": records(result.values),
            "flexibility": records(result.flexibility),
            "boundary": records(result.boundary),
            "regions": records(result.regions()),
            "shares": [{"year": plain(y), **plain(dict(row))} for y, row in result.shares.iterrows()],
            "state_products": list(result.state_products),
            "state_inputs": list(result.state_inputs),
            "held_fixed": list(result.held_fixed),
        }
    )
    return out


@to_json.register
def _(result: TermsGrid, **context: Any) -> dict[str, Any]:
    out = _envelope("terms", result.run, result.run.basis if result.run is not None else None)
    out.update(
        {
            "metric": result.metric,
            "x": {"path": result.x[0], "values": plain(result.x[1])},
            "y": {"path": result.y[0], "values": plain(result.y[1])},
            "walk_away": plain(result.walk_away),
            "parties": {p: plain(frame.to_numpy().tolist()) for p, frame in result.values.items()},
            "accepted": plain(result.accepted.to_numpy().tolist()),
            "share_accepted": result.share_accepted(),
        }
    )
    return out


def _rows(df: pd.DataFrame, key: str) -> list[dict[str, Any]]:
    return [{key: str(name), **plain(dict(row))} for name, row in df.iterrows()]


def _comparison(df: pd.DataFrame, out: dict[str, Any]) -> None:
    rows = []
    for name, row in df.iterrows():
        entry: dict[str, Any] = {"scenario": str(name)}
        parties: dict[str, dict[str, Any]] = {}
        for column, value in row.items():
            party, _, metric = str(column).rpartition(".")
            if party:
                parties.setdefault(party, {})[metric] = plain(value)
            else:
                entry[metric] = plain(value)
        entry["parties"] = parties
        rows.append(entry)
    out["scenarios"] = rows


def _attribution(df: pd.DataFrame, out: dict[str, Any]) -> None:
    names: list[str] = list(df.attrs.get("schedules") or [])
    out["destination"] = df.attrs.get("destination")
    out["schedules"] = names
    parties = {}
    for party, row in df.iterrows():
        parties[str(party)] = {
            "npv_usd": {s: plain(row[f"npv_usd: {s}"]) for s in names},
            "changes": [
                {"from": a, "to": b, "change_usd": plain(row[f"change_usd: {a} -> {b}"])}
                for a, b in itertools.pairwise(names)
            ],
        }
    out["parties"] = parties


def _spider(df: pd.DataFrame, out: dict[str, Any]) -> None:
    out["metric"] = df.attrs.get("metric")
    out["changes"] = plain(df.index.to_numpy(dtype=float))
    out["parameters"] = {str(p): plain(df[p].to_numpy()) for p in df.columns}


def _grid(df: pd.DataFrame, out: dict[str, Any]) -> None:
    metric = df.attrs.get("metric")
    out["metric"] = metric
    out["x"] = {"path": str(df.index.name), "values": plain(df.index.to_numpy(dtype=float))}
    if df.columns.name is None:  # a 1-D grid: one column named after the metric
        out["y"] = None
        out["values"] = plain(df.iloc[:, 0].to_numpy())
    else:
        out["y"] = {"path": str(df.columns.name), "values": plain(df.columns.to_numpy(dtype=float))}
        out["values"] = plain(df.to_numpy().tolist())


def _paired(df: pd.DataFrame, out: dict[str, Any]) -> None:
    out["against"] = df.attrs.get("against")
    out["draws"] = plain(df.attrs.get("draws"))
    out["rows"] = _rows(df, "party")


_FRAME_WRITERS: dict[str, Callable[[pd.DataFrame, dict[str, Any]], None]] = {
    "paired": _paired,
    "comparison": _comparison,
    "tariff_attribution": _attribution,
    "spider": _spider,
    "grid": _grid,
}


@to_json.register
def _(result: pd.DataFrame, **context: Any) -> dict[str, Any]:
    run = _run_of(result)
    kind = run.analysis if run is not None else str(context.get("kind", ""))
    if kind not in FRAME_KINDS:
        raise TypeError("a DataFrame serializes only as a dealcalc result (its attrs['run'] says which)")
    out = _envelope(kind, run if run is not None else context.get("run"), None)
    writer = _FRAME_WRITERS.get(kind)
    if writer is not None:
        writer(result, out)
        attribution = context.get("attribution")
        if kind == "comparison" and attribution is not None:  # compare shows both
            out["tariff_attribution"] = to_json(attribution)
    elif kind == "tornado":
        out["metric"] = result.attrs.get("metric")
        out["base_metric"] = plain(result.attrs.get("base_metric"))
        out["rows"] = _rows(result, "parameter")
        if "quantiles" in result.attrs:
            out["quantiles"] = plain(list(result.attrs["quantiles"]))
        out["clipped"] = plain(list(result.attrs.get("clipped", [])))
        _sources(result, out)
    elif kind in ("sobol", "morris"):
        out["metric"] = result.attrs.get("metric")
        out["rows"] = _rows(result, "input")
        _sources(result, out)
    else:  # flows
        out["series"] = _rows(result, "name")
    return out


def _sources(df: pd.DataFrame, out: dict[str, Any]) -> None:
    """What a tornado from distributions or a Sobol analysis varied, held fixed and does not model."""
    for key in ("sources", "groups", "kinds", "held_fixed", "not_modelled"):
        if key in df.attrs:
            out[key] = plain(df.attrs[key])


@singledispatch
def to_frame(result: Any) -> pd.DataFrame:
    """``result`` as one DataFrame, the table a ``.csv`` output holds (money in US$, rates as
    fractions; the run's record in ``attrs["run"]``).

    Valuation: one row per scenario, every metric; MonteCarlo: its summary, one row per metric;
    Breakeven: one row per scenario; DataFrame results: themselves.

    Examples
    --------
    >>> import dealcalc as dc
    >>> frame = to_frame(dc.evaluate(dc.load(dc.example_path("ussm-fwo"))))
    >>> frame.shape[0], "npv_usd" in frame.columns
    (1, True)
    """
    raise TypeError(f"no table form for {type(result).__name__}")


@to_frame.register
def _(result: Valuation) -> pd.DataFrame:
    df = result.summary()
    df.attrs["run"] = result.info
    return df


@to_frame.register
def _(result: MonteCarlo) -> pd.DataFrame:
    df = result.summary()
    df.attrs["run"] = result.run
    return df


@to_frame.register
def _(result: Breakeven) -> pd.DataFrame:
    df = result.table()
    df.attrs["run"] = result.run
    return df


@to_frame.register
def _(result: TermsGrid) -> pd.DataFrame:
    df = result.table()
    df.attrs["run"] = result.run
    return df


@to_frame.register
def _(result: GateDecisions) -> pd.DataFrame:
    df = result.values.pivot(index="rule", columns="metric", values="value_usd")
    df.attrs["run"] = result.run
    return df


@to_frame.register
def _(result: pd.DataFrame) -> pd.DataFrame:
    return result


def dumps(payload: dict[str, Any]) -> str:
    """The payload as indented JSON text (strict: NaN is refused, as JSON has none).

    Examples
    --------
    >>> print(dumps({"a": 1}))
    {
      "a": 1
    }
    """
    return json.dumps(plain(payload), indent=2, allow_nan=False, ensure_ascii=False)


def csv_text(df: pd.DataFrame, run: RunInfo | dict[str, Any] | None = None) -> str:
    """A CSV file: the run's record as ``#`` comment lines, then the table
    (``pandas.read_csv(path, comment="#")`` reads it back).

    Examples
    --------
    >>> text = csv_text(pd.DataFrame({"npv_usd": [1.5]}), {"file": "deal.yaml"})
    >>> text.splitlines()[0], text.splitlines()[-1]
    ('# file: deal.yaml', '0,1.5')
    """
    record = run if run is not None else _run_of(df)
    if isinstance(record, RunInfo):
        header = [f"# {line}" for line in record.lines()]
    else:
        header = [f"# {k}: {v}" for k, v in (record or {}).items()]
    # what a table is of, beyond the run: one company's ledger, the scenario a change is against
    header += [f"# {key}: {df.attrs[key]}" for key in ("entity", "against") if df.attrs.get(key)]
    header = [line.replace("\n", " ") for line in header]
    numeric = df.select_dtypes(include="number").columns
    if len(numeric):  # no -0.0 in a file (a cost of zero written as minus zero)
        df = df.copy()
        df[numeric] = df[numeric] + 0.0
    return "\n".join(header) + ("\n" if header else "") + df.to_csv()
