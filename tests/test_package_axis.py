"""The package axis (issue #14): one package per kind of thing, stated in nblib's docstring, and every old
import path still working for one release, with a DeprecationWarning, to the very same object."""
import importlib
import pkgutil
import subprocess
import sys
import warnings

import pytest

import nblib

#: old module -> {name: "new.module" or "new.module:new_name"}, as moved by issue #14
MOVED = {
    "nblib.models": {"train_airbench94": "nblib.engine"},
    "nblib.models.airbench": {"AirbenchResult": "nblib.engine.airbench", "train_airbench94": "nblib.engine.airbench"},
    "nblib.analyze": {"main": "nblib.inspect.analyze", "run": "nblib.inspect.analyze", "write": "nblib.inspect.analyze"},
    "nblib.train": {
        "Callback": "nblib.engine.trainer:TrainerCallback",
        "CheckpointCallback": "nblib.engine.trainer",
        "EpochStartAnalysis": "nblib.engine.trainer",
        "MetricsLogger": "nblib.engine.trainer",
        "Trainer": "nblib.engine.trainer",
        "macro_f1": "nblib.engine.trainer"
    },
    "nblib.train_fast": {
        "CIFAR10_MEAN": "nblib.engine.cifar",
        "CIFAR10_STD": "nblib.engine.cifar",
        "FitResult": "nblib.engine.cifar",
        "decay_groups": "nblib.engine.cifar",
        "evaluate": "nblib.engine.cifar",
        "fit_fast": "nblib.engine.cifar",
        "fit_seeds": "nblib.engine.cifar",
        "triangle_schedule": "nblib.engine.cifar"
    },
    "nblib.vae": {
        "CSVAE": "nblib.models.csvae",
        "CSVAEOutput": "nblib.models.csvae",
        "DAGInteractionLayer": "nblib.layers.dag",
        "FCDecoder": "nblib.models.vae_encoders",
        "GaussianHead": "nblib.models.vae_encoders",
        "KLSchedule": "nblib.models.csvae",
        "LatentLayer": "nblib.models.csvae",
        "LatentTensorBoardLogger": "nblib.latents.tensorboard",
        "LayerCodes": "nblib.latents.diagnostics",
        "SimpleFCNNEncoder": "nblib.models.vae_encoders",
        "VAEHistory": "nblib.engine.csvae",
        "active_units": "nblib.latents.diagnostics",
        "banded_adjacency": "nblib.layers.dag",
        "csvae_loss": "nblib.models.csvae",
        "encode_dataset": "nblib.latents.evaluate",
        "evaluate": "nblib.latents.evaluate",
        "factor_mutual_information": "nblib.latents.diagnostics",
        "fluctuation_explained_by": "nblib.latents.diagnostics",
        "gaussian_kl": "nblib.models.vae_encoders",
        "histogram_edges": "nblib.latents.diagnostics",
        "loss_fluctuation": "nblib.latents.diagnostics",
        "mu_histograms": "nblib.latents.diagnostics",
        "mutual_information_gap": "nblib.latents.diagnostics",
        "plot_batch_mean_vs_histogram": "nblib.latents.plots",
        "plot_factor_scores": "nblib.latents.plots",
        "plot_kl_per_unit": "nblib.latents.plots",
        "plot_loss_curves": "nblib.latents.plots",
        "plot_mu_histograms": "nblib.latents.plots",
        "plot_reconstruction_grid": "nblib.latents.plots",
        "reconstruct": "nblib.latents.evaluate",
        "train_csvae": "nblib.engine.csvae"
    },
    "nblib.vae.csvae": {
        "CSVAE": "nblib.models.csvae",
        "CSVAEOutput": "nblib.models.csvae",
        "KLSchedule": "nblib.models.csvae",
        "LatentLayer": "nblib.models.csvae",
        "POSTERIORS": "nblib.models.csvae",
        "RECON_REDUCTIONS": "nblib.models.csvae",
        "csvae_loss": "nblib.models.csvae"
    },
    "nblib.vae.encoders": {
        "ACTIVATIONS": "nblib.layers.activations",
        "FCDecoder": "nblib.models.vae_encoders",
        "GaussianHead": "nblib.models.vae_encoders",
        "HEADS": "nblib.models.vae_encoders",
        "SimpleFCNNEncoder": "nblib.models.vae_encoders",
        "make_activation": "nblib.layers.activations",
        "mlp": "nblib.models.vae_encoders"
    },
    "nblib.vae.dag": {
        "DAGInteractionLayer": "nblib.layers.dag",
        "banded_adjacency": "nblib.layers.dag"
    },
    "nblib.vae.diagnostics": {
        "LayerCodes": "nblib.latents.diagnostics",
        "active_units": "nblib.latents.diagnostics",
        "factor_mutual_information": "nblib.latents.diagnostics",
        "fluctuation_explained_by": "nblib.latents.diagnostics",
        "gaussian_kl": "nblib.models.vae_encoders",
        "histogram_edges": "nblib.latents.diagnostics",
        "loss_fluctuation": "nblib.latents.diagnostics",
        "mu_histograms": "nblib.latents.diagnostics",
        "mutual_information_gap": "nblib.latents.diagnostics"
    },
    "nblib.vae.tblog": {
        "LatentTensorBoardLogger": "nblib.latents.tensorboard"
    },
    "nblib.vae.plots": {
        "plot_batch_mean_vs_histogram": "nblib.latents.plots",
        "plot_factor_scores": "nblib.latents.plots",
        "plot_kl_per_unit": "nblib.latents.plots",
        "plot_loss_curves": "nblib.latents.plots",
        "plot_mu_histograms": "nblib.latents.plots",
        "plot_reconstruction_grid": "nblib.latents.plots"
    },
    "nblib.vae.training": {
        "CSVAE": "nblib.models.csvae",
        "VAEHistory": "nblib.engine.csvae",
        "encode_dataset": "nblib.latents.evaluate",
        "evaluate": "nblib.latents.evaluate",
        "reconstruct": "nblib.latents.evaluate",
        "train_csvae": "nblib.engine.csvae"
    },
    "nblib.hashing": {
        "BatchThresholds": "nblib.layers.hashing.thresholds",
        "GaussianClasses": "nblib.continual.ood",
        "IncrementalNeuralHashing": "nblib.layers.hashing.layer",
        "NO_NEGATIVES": "nblib.layers.hashing",
        "ReplayBuffer": "nblib.continual.baselines",
        "STRATEGIES": "nblib.layers.hashing",
        "SetCover": "nblib.layers.hashing.setcover",
        "SlotMatch": "nblib.layers.hashing.layer",
        "SlotUpdate": "nblib.continual.evaluate",
        "accuracy_vs_new_slots": "nblib.continual.evaluate",
        "as_views": "nblib.layers.hashing.scores",
        "auroc": "nblib.continual.evaluate",
        "class_means": "nblib.continual.baselines",
        "cover_of": "nblib.layers.hashing.selection",
        "encode_in_chunks": "nblib.continual.evaluate",
        "fit_hashing": "nblib.engine.hashing",
        "fit_linear_probe": "nblib.engine.hashing",
        "fit_mahalanobis": "nblib.continual.ood",
        "forgetting": "nblib.continual.baselines",
        "forgetting_breakdown": "nblib.continual.evaluate",
        "greedy_approximation_bound": "nblib.layers.hashing.setcover",
        "greedy_set_cover": "nblib.layers.hashing.setcover",
        "greedy_set_cover_lazy": "nblib.layers.hashing.setcover",
        "greedy_set_cover_python": "nblib.layers.hashing.setcover",
        "knn_distance_score": "nblib.continual.ood",
        "mahalanobis_score": "nblib.continual.ood",
        "match_metrics": "nblib.continual.evaluate",
        "max_norm_view": "nblib.layers.hashing.scores",
        "max_softmax_score": "nblib.continual.ood",
        "nearest_class_mean_predict": "nblib.continual.baselines",
        "nearest_neighbour_predict": "nblib.continual.evaluate",
        "precision_on_batch": "nblib.layers.hashing.thresholds",
        "precision_thresholds": "nblib.layers.hashing.thresholds",
        "select_slots": "nblib.layers.hashing.selection",
        "slot_input_gradients": "nblib.continual.evaluate",
        "slot_scores": "nblib.layers.hashing.scores",
        "slot_selector": "nblib.layers.hashing.selection",
        "slot_update": "nblib.continual.evaluate",
        "slots_needed": "nblib.continual.evaluate",
        "thresholds_in_force": "nblib.layers.hashing.thresholds",
        "update_running_thresholds": "nblib.layers.hashing.thresholds"
    },
    "nblib.hashing.layer": {
        "IncrementalNeuralHashing": "nblib.layers.hashing.layer",
        "PAD": "nblib.layers.hashing.layer",
        "SlotMatch": "nblib.layers.hashing.layer"
    },
    "nblib.hashing.scores": {
        "as_views": "nblib.layers.hashing.scores",
        "max_norm_view": "nblib.layers.hashing.scores",
        "slot_scores": "nblib.layers.hashing.scores"
    },
    "nblib.hashing.setcover": {
        "BATCH": "nblib.layers.hashing.setcover",
        "CPU_NUMPY": "nblib.layers.hashing.setcover",
        "SetCover": "nblib.layers.hashing.setcover",
        "greedy_approximation_bound": "nblib.layers.hashing.setcover",
        "greedy_set_cover": "nblib.layers.hashing.setcover",
        "greedy_set_cover_lazy": "nblib.layers.hashing.setcover",
        "greedy_set_cover_python": "nblib.layers.hashing.setcover"
    },
    "nblib.hashing.thresholds": {
        "BatchThresholds": "nblib.layers.hashing.thresholds",
        "NO_NEGATIVES": "nblib.layers.hashing.thresholds",
        "precision_on_batch": "nblib.layers.hashing.thresholds",
        "precision_thresholds": "nblib.layers.hashing.thresholds",
        "thresholds_in_force": "nblib.layers.hashing.thresholds",
        "update_running_thresholds": "nblib.layers.hashing.thresholds"
    },
    "nblib.hashing.selection": {
        "STRATEGIES": "nblib.layers.hashing.selection",
        "cover_of": "nblib.layers.hashing.selection",
        "select_slots": "nblib.layers.hashing.selection",
        "slot_selector": "nblib.layers.hashing.selection"
    },
    "nblib.hashing.training": {
        "fit_hashing": "nblib.engine.hashing",
        "fit_linear_probe": "nblib.engine.hashing"
    },
    "nblib.hashing.evaluate": {
        "SlotUpdate": "nblib.continual.evaluate",
        "accuracy_vs_new_slots": "nblib.continual.evaluate",
        "auroc": "nblib.continual.evaluate",
        "encode_in_chunks": "nblib.continual.evaluate",
        "forgetting_breakdown": "nblib.continual.evaluate",
        "match_metrics": "nblib.continual.evaluate",
        "nearest_neighbour_predict": "nblib.continual.evaluate",
        "slot_input_gradients": "nblib.continual.evaluate",
        "slot_update": "nblib.continual.evaluate",
        "slots_needed": "nblib.continual.evaluate"
    },
    "nblib.hashing.continual": {
        "ReplayBuffer": "nblib.continual.baselines",
        "class_means": "nblib.continual.baselines",
        "forgetting": "nblib.continual.baselines",
        "nearest_class_mean_predict": "nblib.continual.baselines"
    },
    "nblib.hashing.ood": {
        "GaussianClasses": "nblib.continual.ood",
        "fit_mahalanobis": "nblib.continual.ood",
        "knn_distance_score": "nblib.continual.ood",
        "mahalanobis_score": "nblib.continual.ood",
        "max_softmax_score": "nblib.continual.ood"
    },
    "nblib.hashing.plots": {
        "plot_accuracy_matrices": "nblib.continual.plots",
        "plot_class_grid": "nblib.continual.plots",
        "plot_ood_scores": "nblib.continual.plots",
        "plot_slots_per_class": "nblib.continual.plots",
        "plot_update_curves": "nblib.continual.plots"
    },
    "nblib.gradients": {
        "GradientTracker": "nblib.dynamics.tracker",
        "READINGS": "nblib.dynamics",
        "SCALARS": "nblib.dynamics",
        "TrackerCallback": "nblib.dynamics.callback",
        "flat_grad": "nblib.dynamics.curvature",
        "hutchinson_diagonal": "nblib.dynamics.curvature",
        "per_epoch": "nblib.dynamics.plots",
        "plot_dynamics": "nblib.dynamics.plots",
        "plot_layer_zero_grads": "nblib.dynamics.plots",
        "plot_sign_heatmap": "nblib.dynamics.plots",
        "step_crossings": "nblib.dynamics.curvature"
    },
    "nblib.gradients.tracker": {
        "GradientTracker": "nblib.dynamics.tracker",
        "SCALARS": "nblib.dynamics.tracker"
    },
    "nblib.gradients.stepstats": {
        "EagerStepStatistics": "nblib.dynamics.stepstats",
        "SCALARS": "nblib.dynamics.stepstats",
        "step_statistics": "nblib.dynamics.stepstats"
    },
    "nblib.gradients.callback": {
        "TrackerCallback": "nblib.dynamics.callback"
    },
    "nblib.gradients.curvature": {
        "READINGS": "nblib.dynamics.curvature",
        "flat_grad": "nblib.dynamics.curvature",
        "hutchinson_diagonal": "nblib.dynamics.curvature",
        "step_crossings": "nblib.dynamics.curvature"
    },
    "nblib.gradients.plots": {
        "PANELS": "nblib.dynamics.plots",
        "SIGN_COLOURS": "nblib.dynamics.plots",
        "SIGN_LABELS": "nblib.dynamics.plots",
        "per_epoch": "nblib.dynamics.plots",
        "plot_dynamics": "nblib.dynamics.plots",
        "plot_layer_zero_grads": "nblib.dynamics.plots",
        "plot_sign_heatmap": "nblib.dynamics.plots"
    }
}

PAIRS = [(old, name) for old, names in MOVED.items() for name in names]


@pytest.mark.parametrize("old,name", PAIRS, ids=[f"{o}.{n}" for o, n in PAIRS])
def test_old_path_warns_and_gives_the_same_object(old, name):
    module, _, new_name = MOVED[old][name].partition(":")
    with pytest.warns(DeprecationWarning, match=f"{old}.{name} moved to {module}"):
        got = getattr(importlib.import_module(old), name)
    assert got is getattr(importlib.import_module(module), new_name or name)


def test_every_package_is_named_in_the_rule():
    doc = nblib.__doc__
    packages = [m.name for m in pkgutil.iter_modules(nblib.__path__) if m.ispkg]
    old = {"vae", "hashing", "gradients"}
    assert all(f"``{p}``" in doc for p in packages if p not in old), [p for p in packages if f"``{p}``" not in doc]


def test_new_paths_import_without_warnings():
    code = ("import warnings; warnings.simplefilter('error')\n"
            "import nblib.engine, nblib.models, nblib.layers, nblib.latents, nblib.continual, nblib.dynamics, "
            "nblib.inspect.analyze, nblib.doctor, nblib.interpret, nblib.correlation, nblib.claims\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-2000:]


def test_python_m_nblib_analyze_still_runs():
    run = subprocess.run([sys.executable, "-m", "nblib.analyze", "--help"], capture_output=True, text=True, timeout=120,
                         check=False)
    assert run.returncode == 0 and "usage: python -m nblib.analyze" in run.stdout, run.stderr[-2000:]
