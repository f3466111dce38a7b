"""MetaSampler vs multivariate TPE: a cross-validated SVM on scikit-learn's breast cancer data.

The sampler loads the meta-model shipped with metaopt for the ``svm`` space (trained on
other datasets; see ``metaopt/_models/svm@classification/CARD.md``): its first picks
are the portfolio's, the same for every dataset; from the 4th trial its ranker adapts
to the trials so far and reads this dataset's meta-features.

    python example.py            # with metaopt and optunahub installed; ~7 s

Prints the first three warm-start configurations, why each of the first five
MetaSampler trials was chosen, and the best CV accuracy of both samplers after 1, 3, 5,
10 and 20 trials (MetaSampler ahead from the first trial here: one dataset, one seed).
No data is downloaded, and nothing is written but OptunaHub's copy of this package
(``load_module`` fetches it from the registry and caches it).
"""

from __future__ import annotations

from metaopt.spaces import get_space
import numpy as np
import optuna
import optunahub
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import cross_val_score
from sklearn.model_selection import StratifiedKFold


MetaSampler = optunahub.load_module("samplers/metaopt_sampler").MetaSampler

SPACE, TASK, N_TRIALS, SEED = "svm", "classification", 20, 0

X, y = load_breast_cancer(return_X_y=True, as_frame=True)
space = get_space(SPACE)
cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=SEED)


def objective(trial: optuna.Trial) -> float:
    # the metaopt space samples its parameters define-by-run (C, kernel, gamma, ...)
    params = space.sample(trial, TASK)
    model = space.build(params, TASK, random_state=SEED)  # Pipeline(scaling, SVC)
    return float(np.mean(cross_val_score(model, X, y, cv=cv)))


if __name__ == "__main__":
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    meta = MetaSampler(space=SPACE, dataset=(X, y), seed=SEED)
    print("first warm-start configurations:")
    print(meta.warm_start(3)[["params", "expected_regret"]].to_string())

    curves = {}
    for name, sampler in {
        "MetaSampler": meta,
        "TPE": optuna.samplers.TPESampler(multivariate=True, seed=SEED),
    }.items():
        study = optuna.create_study(direction="maximize", sampler=sampler)
        study.optimize(objective, n_trials=N_TRIALS)
        curves[name] = np.maximum.accumulate(np.array([t.value for t in study.trials], float))
        if name == "MetaSampler":
            print("why each MetaSampler trial was chosen:")
            for t in study.trials[:5]:
                print(f"  #{t.number}: {t.system_attrs.get('metaopt:source')}")

    print("\nbest 3-fold CV accuracy so far")
    print(f"{'trials':>6} " + " ".join(f"{n:>12}" for n in curves))
    for k in sorted({1, 3, 5, 10, 20, N_TRIALS} & set(range(1, N_TRIALS + 1))):
        print(f"{k:>6} " + " ".join(f"{c[k - 1]:>12.4f}" for c in curves.values()))
