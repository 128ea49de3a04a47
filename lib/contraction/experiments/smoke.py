"""A tiny end-to-end check of the experiment machinery: logistic regression on 8x8
digits."""

from __future__ import annotations

from . import register

SETTINGS = {
    "fast": {"epochs": 5, "seeds": [0]},
    "full": {"epochs": 30, "seeds": [0, 1, 2]},
}


@register("smoke")
def smoke(mode: str) -> dict:
    """Logistic regression on the 8x8 digits (checks training, recording and the
    CLI)."""
    import torch

    from .. import data, runtime
    from ..nn import train

    settings = SETTINGS[mode]
    config = {"model": "Linear(64, 10)", "lr": 0.05, "batch_size": 64, **settings}
    accuracies, names = [], []
    for seed in settings["seeds"]:
        dataset = data.digits(seed=seed)
        runtime.seed_everything(seed)  # the initial weights, not only the batch order
        model = torch.nn.Linear(dataset.x_train.shape[1], 10)
        train.fit(
            model,
            dataset.train,
            epochs=settings["epochs"],
            lr=config["lr"],
            batch_size=config["batch_size"],
            seed=seed,
            progress=False,
        )
        accuracies.append(train.evaluate(model, dataset.test)["accuracy"])
        names.append(dataset.name)
    metrics = {
        "test_accuracy": accuracies,
        "mean_test_accuracy": sum(accuracies) / len(accuracies),
    }
    return {"metrics": metrics, "config": config, "data_used": "; ".join(names)}
