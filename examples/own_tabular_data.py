"""Continual learning on your own tabular data: numeric features, not images.

Six classes of 20 numeric features (scikit-learn's ``make_classification``) arrive as three tasks of
two classes each, in the domain-incremental setting (the model answers "first or second class of
the task" without being told the task). Naive fine-tuning forgets the earlier tasks; EWC keeps
more of them. Any (N, D) float array works the same way: ``scenario_from_tensors`` takes tensors or
numpy arrays and uses float features as they are (``normalize=True`` standardises each feature).

    python examples/own_tabular_data.py
"""

from __future__ import annotations

from sklearn.datasets import make_classification

import lifelong


def main() -> None:
    features, labels = make_classification(
        n_samples=3000,
        n_features=20,
        n_informative=12,
        n_redundant=4,
        n_classes=6,
        n_clusters_per_class=2,
        random_state=0,
    )
    scenario = lifelong.scenario_from_tensors(
        features,
        labels,
        classes_per_task=2,  # tasks {0, 1}, {2, 3}, {4, 5}
        setting="domain",
        normalize=True,  # mean 0, std 1 per feature, from the training split
        test_fraction=0.2,  # stratified hold-out (or pass test=(x_test, y_test))
        name="tabular",
    )
    print(
        f"{scenario.num_tasks} tasks, inputs {scenario.input_shape}, {scenario.num_outputs} units"
    )
    for strategy, params in [("naive", {}), ("ewc", {"strength": 400.0})]:
        config = lifelong.RunConfig.of(
            strategy=strategy,
            strategy_params=params,
            epochs=4,
            batch_size=32,
            hidden=(64, 64),
            eval_every=0,
            threads=1,
        )
        result = lifelong.run(config, scenario=scenario, write=False)
        metrics = result.metrics
        print(
            f"\n{strategy}: average accuracy {metrics['average_accuracy']:.3f}, "
            f"average forgetting {metrics['average_forgetting']:.3f}"
        )
        print("accuracy matrix (row: after training task i; column: task j)")
        for row in result.accuracy_matrix:
            print("  " + "  ".join(f"{value:.2f}" for value in row))


if __name__ == "__main__":
    main()
