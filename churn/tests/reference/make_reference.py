#!/usr/bin/env python3
"""Writes the values of `lifetimes`' BetaGeoFitter that portrait_core::churn_model is checked against:

- cdnow_reference.csv: every CDNOW customer's P(alive) and expected purchases in the next 39
  weeks, for churn/tests/cdnow.rs (within 1e-6);
- expected_repeat_purchases.csv: E[X(t)], the repeat purchases a customer drawn at random makes
  in the first t weeks after the first purchase (the paper's eq. 9,
  expected_number_of_purchases_up_to_time), for a few parameter sets and horizons, for the unit
  tests of BgNbdParams::expected_repeat_purchases (core/src/churn_model/tests.rs, within 1e-12
  relative).

    python3 -m venv /tmp/lt && /tmp/lt/bin/pip install lifetimes==0.11.3
    /tmp/lt/bin/python churn/tests/reference/make_reference.py

Made with lifetimes 0.11.3, numpy 2.4.6, scipy 1.17.1, pandas 3.1.1 (Python 3.11).

The customers' (x, t_x, T) come from lifetimes' own summary of tests/fixtures/cdnow/CDNOW_sample.txt
up to the end of the 39-week calibration period, 1997-09-30: purchase days (freq "D": several
purchases on one day are one), in weeks (freq_multiplier 7). This reproduces the paper's summary,
which lifetimes ships as cdnow_customers_summary.csv; freq "W" would count whole calendar weeks
instead and fit r = 0.29, not the published 0.243. The parameters are not fitted here but fixed
at the published ones, so the comparison is of the formulas alone.

expected_repeat_purchases.csv takes the published parameters, those churn/tests/recovery.rs draws
its customers from, and a population of frequent buyers with a > 1 (the other branch of the
(a + b - 1) / (a - 1) factor); the horizons run from one day (1/7 week) to two years. a = 1 is
left out: lifetimes divides by zero there (the unit tests check continuity through it instead).
"""

from pathlib import Path

import pandas as pd
from lifetimes import BetaGeoFitter
from lifetimes.utils import summary_data_from_transaction_data

HERE = Path(__file__).resolve().parent
TRANSACTIONS = HERE.parents[2] / "tests" / "fixtures" / "cdnow" / "CDNOW_sample.txt"
CALIBRATION_END = "1997-09-30"
HORIZON_WEEKS = 39
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
POPULATIONS = [
    PUBLISHED,
    {"r": 0.5, "alpha": 4.0, "a": 0.8, "b": 2.5},
    {"r": 2.0, "alpha": 1.5, "a": 2.2, "b": 3.0},
]
HORIZONS_WEEKS = [0.0, 1 / 7, 1.0, 4.0, 13.0, 26.0, 39.0, 52.0, 78.0, 104.0]


def fitter_with(params):
    """A BetaGeoFitter with `params` set, not fitted."""
    fitter = BetaGeoFitter()
    fitter.params_ = pd.Series(params)
    return fitter


def write_cdnow_reference():
    transactions = pd.read_csv(
        TRANSACTIONS,
        sep=r"\s+",
        header=None,
        names=["id", "customer", "date", "cds", "dollars"],
        dtype={"date": str},
    )
    transactions["date"] = pd.to_datetime(transactions["date"], format="%Y%m%d")
    summary = summary_data_from_transaction_data(
        transactions,
        "customer",
        "date",
        observation_period_end=CALIBRATION_END,
        freq="D",
        freq_multiplier=7,
    )
    fitter = fitter_with(PUBLISHED)
    x, t_x, t = summary["frequency"], summary["recency"], summary["T"]
    summary["p_alive"] = fitter.conditional_probability_alive(x, t_x, t)
    summary["expected_purchases_39w"] = (
        fitter.conditional_expected_number_of_purchases_up_to_time(HORIZON_WEEKS, x, t_x, t)
    )
    summary = summary.rename(columns={"frequency": "x", "recency": "t_x"})
    summary.sort_index().to_csv(HERE / "cdnow_reference.csv", float_format="%.17g")


def write_expected_repeat_purchases():
    rows = [
        {
            **params,
            "t": t,
            "expected_repeat_purchases": fitter.expected_number_of_purchases_up_to_time(t),
        }
        for params in POPULATIONS
        for fitter in [fitter_with(params)]
        for t in HORIZONS_WEEKS
    ]
    pd.DataFrame(rows).to_csv(
        HERE / "expected_repeat_purchases.csv", index=False, float_format="%.17g"
    )


def main():
    write_cdnow_reference()
    write_expected_repeat_purchases()


if __name__ == "__main__":
    main()
