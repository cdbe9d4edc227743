#!/usr/bin/env python3
"""Writes cdnow_reference.csv: every CDNOW customer's P(alive) and expected purchases in the next
39 weeks, by `lifetimes`' BetaGeoFitter, for churn/tests/cdnow.rs to compare with
portrait_core::churn_model (within 1e-6).

    python3 -m venv /tmp/lt && /tmp/lt/bin/pip install lifetimes==0.11.3
    /tmp/lt/bin/python churn/tests/reference/make_reference.py

Made with lifetimes 0.11.3, numpy 2.4.6, scipy 1.17.1, pandas 3.1.1 (Python 3.11).

The customers' (x, t_x, T) come from lifetimes' own summary of tests/fixtures/cdnow/CDNOW_sample.txt
up to the end of the 39-week calibration period, 1997-09-30: purchase days (freq "D": several
purchases on one day are one), in weeks (freq_multiplier 7). This reproduces the paper's summary,
which lifetimes ships as cdnow_customers_summary.csv; freq "W" would count whole calendar weeks
instead and fit r = 0.29, not the published 0.243. The parameters are not fitted here but fixed
at the published ones, so the comparison is of the formulas alone.
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


def main():
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
    fitter = BetaGeoFitter()
    fitter.params_ = pd.Series(PUBLISHED)
    x, t_x, t = summary["frequency"], summary["recency"], summary["T"]
    summary["p_alive"] = fitter.conditional_probability_alive(x, t_x, t)
    summary["expected_purchases_39w"] = (
        fitter.conditional_expected_number_of_purchases_up_to_time(HORIZON_WEEKS, x, t_x, t)
    )
    summary = summary.rename(columns={"frequency": "x", "recency": "t_x"})
    summary.sort_index().to_csv(HERE / "cdnow_reference.csv", float_format="%.17g")


if __name__ == "__main__":
    main()
