"""`metaopt train-meta-model`: fit the portfolio + ranker of each space of a knowledge base."""

from __future__ import annotations

from functools import partial

# the defaults of the options that default to None, so that an explicit one can be told
# from an absent one (and refused where it would be ignored: _check_options)
_DEFAULTS = {"kb": "default", "n_configs": 256, "spaces": "all", "min_datasets": 5,
             "iterations": 1000, "n_ensemble": 5, "algorithm": "metasgd", "seed": 0,
             "min_distance": 0.0}
# the options each meta-dataset uses beside --out and --no-progress; the others are refused
_TRAINING = {"min_datasets", "iterations", "n_ensemble", "algorithm", "seed",
             "covariance_weight", "min_distance"}
_USED = {
    "--cost-only": ({"cost_only", "kb"}, "it only fits cost models, from --kb"),
    "--yahpo": ({"yahpo", "yahpo_data", "n_configs"} | _TRAINING - {"min_datasets"},
                "it trains one model on the scenario's train instances"),
    "--tabrepo": ({"tabrepo", "spaces"} | _TRAINING, "it trains on the TabRepo directory"),
    "--kb": ({"kb", "spaces"} | _TRAINING, None),
}
# every option a meta-dataset may not use, in the order of --help
_OPTIONS = ("kb", "tabrepo", "yahpo", "yahpo_data", "n_configs", "spaces", "min_datasets",
            "iterations", "n_ensemble", "algorithm", "seed", "covariance_weight",
            "min_distance", "cost_only")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train-meta-model", help="meta-train portfolios + rankers from a knowledge base",
        description="Fit a MetaModel (greedy portfolio + Meta-SGD ConfigRanker) for each search "
        "space of a knowledge base and save it with a model card. Use --tabrepo DIR to train "
        "on the TabRepo LightGBM meta-dataset instead, or --yahpo SCENARIO --yahpo-data DIR "
        "on a YAHPO Gym surrogate's train instances. An option the chosen meta-dataset does "
        "not use is refused.",
    )
    p.add_argument("--kb", help="knowledge base: SQLite file/URL, parquet export, or "
                   "'default' (the shipped one; the default without --tabrepo/--yahpo)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--tabrepo", metavar="DIR",
                        help="TabRepo directory (results.csv, configs.json, ...)")
    source.add_argument("--yahpo", metavar="SCENARIO", help="YAHPO Gym scenario (lcbench, "
                        "rbv2_xgboost, ...): train on its train split")
    p.add_argument("--yahpo-data", metavar="DIR",
                   help="YAHPO data directory (with splits.json), for --yahpo")
    p.add_argument("--n-configs", metavar="N", type=int,
                   help="Sobol configurations evaluated per YAHPO instance, for --yahpo "
                   "(default: 256)")
    p.add_argument("--spaces", help="'all' (the default: every space of the knowledge "
                   "base and the combination of its model families: 'all' when it has "
                   "every one, else e.g. 'linear+knn') or comma-separated space names "
                   "('a+b' combines spaces); not with --yahpo")
    p.add_argument("--out", metavar="DIR",
                   required=True, help="output directory: one folder per space, "
                   "'<space>@<task>' where the task types are designed apart (a knowledge "
                   "base built by metaopt)")
    p.add_argument("--min-datasets", metavar="N", type=int,
                   help="leave out spaces with fewer datasets (default: 5); not with --yahpo")
    p.add_argument("--iterations", metavar="N", type=int,
                   help="meta-training iterations of each ranker (default: 1000)")
    p.add_argument("--n-ensemble", metavar="N",
                   type=int, help="rankers in each ensemble (default: 5)")
    p.add_argument("--algorithm", choices=["metasgd", "maml", "anil", "none"],
                   help="the ranker's adaptation ('none': zero-shot; default: metasgd)")
    p.add_argument("--seed", type=int, help="random seed (default: 0)")
    p.add_argument("--covariance-weight", type=float, default=None,
                   help="weight of the portfolio's configuration covariance in the policy "
                   "(MetaModel covariance_weight); default 3 with --tabrepo, where it is "
                   "measured, else 0")
    p.add_argument("--min-distance", type=float,
                   help="the policy's MetaModel min_distance: leave out candidates this close "
                   "to an evaluated configuration (default: 0; the shipped YAHPO models use "
                   "0.05)")
    p.add_argument("--cost-only", action="store_true",
                   help="only fit the cost models (cost.json) of the knowledge-base "
                   "meta-models already in --out, from --kb's fit times (no training option)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=partial(_cmd_train, parser=p))


def _check_options(args, parser) -> None:
    """Refuse, as argparse does (usage, one line, exit 2), the options the chosen
    meta-dataset would ignore; then fill in the defaults of :data:`_DEFAULTS`."""
    mode = ("--cost-only" if args.cost_only else "--yahpo" if args.yahpo
            else "--tabrepo" if args.tabrepo else "--kb")
    used, why = _USED[mode]
    ignored = [f"--{dest.replace('_', '-')}" for dest in _OPTIONS  # --seed 0 is given
               if dest not in used and getattr(args, dest) is not None
               and getattr(args, dest) is not False]
    if ignored:
        parser.error(f"{', '.join(ignored)}: only with --yahpo" if mode == "--kb" else
                     f"{', '.join(ignored)}: not used with {mode} ({why})")
    if args.yahpo and not args.yahpo_data:
        parser.error("--yahpo needs --yahpo-data DIR (the YAHPO data directory)")
    for dest, value in _DEFAULTS.items():
        if getattr(args, dest) is None:
            setattr(args, dest, value)


def _cmd_train(args, parser) -> int:
    _check_options(args, parser)  # before any work
    from metaopt.kb import load_tabrepo, open_knowledge_base
    from metaopt.kb._store import check_writable
    from metaopt.ranker._train import (
        add_cost_models,
        train_meta_models,
        train_yahpo_meta_model,
    )

    out = check_writable(args.out, "--out", directory=True)  # before training, not after
    if args.cost_only:
        written = add_cost_models(open_knowledge_base(args.kb), out) if out.is_dir() else {}
        if not written:
            why = ("does not exist" if not out.exists() else "is one model's folder"
                   if (out / "portfolio.json").is_file() else "has no folder of one")
            raise ValueError(
                f"{args.out} holds no knowledge-base meta-model: it {why}; --cost-only adds "
                "cost.json to the models `metaopt train-meta-model --out DIR` wrote into "
                "DIR, one folder each (knn@classification, all@regression, ...)")
        for name, directory in written.items():
            print(f"{name}: {directory / 'cost.json'}")
        return 0

    ranker_options = {"iterations": args.iterations, "n_ensemble": args.n_ensemble,
                      "algorithm": args.algorithm, "random_state": args.seed}
    weight = args.covariance_weight
    if weight is None:
        weight = 3.0 if args.tabrepo else 0.0
    policy_options = {"covariance_weight": weight, "min_distance": args.min_distance}
    if args.yahpo:
        directory = train_yahpo_meta_model(args.yahpo, args.yahpo_data, args.out,
                                           n_configs=args.n_configs,
                                           ranker_options=ranker_options,
                                           policy_options=policy_options,
                                           progress=not args.no_progress)
        print(f"{directory.name}: {directory}")
        return 0
    kb = load_tabrepo(args.tabrepo) if args.tabrepo else open_knowledge_base(args.kb)
    source = f"TabRepo directory {args.tabrepo}" if args.tabrepo else f"knowledge base {args.kb}"
    written = train_meta_models(
        kb, args.out, spaces=None if args.spaces == "all" else args.spaces.split(","),
        min_datasets=args.min_datasets, source=source, progress=not args.no_progress,
        ranker_options=ranker_options, policy_options=policy_options,
        on_saved=lambda name, directory: print(f"{name}: {directory}", flush=True),
    )
    if not written:
        raise ValueError(f"no space of {source} has {args.min_datasets}+ datasets that share "
                         "configurations: add datasets (metaopt build-kb --limit, --datasets; "
                         "the shared design, --n-design, is what they share) or lower "
                         "--min-datasets")
    return 0
