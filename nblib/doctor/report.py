"""The doctor's report: ``report.md`` (with PNG plots beside it) and a self-contained ``report.html``
(the same plots inline as base64 PNGs, no external files, no scripts)."""
from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path

from ..cli import StagedDir
from .findings import EVIDENCE, SEVERITIES, fmt

COLOURS = {"critical": "#c0392b", "warning": "#d68910", "info": "#2e86c1"}


# -- plots ------------------------------------------------------------------------------------------
def figures(diag) -> dict[str, object]:
    """name -> matplotlib Figure, for each part of the report that has data."""
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import numpy as np

    figs = {}
    t = diag.layers
    if len(t):
        fig, axes = plt.subplots(1, 2, figsize=(11, max(2.5, 0.28 * len(t) + 1.2)), sharey=True)
        ypos = np.arange(len(t))
        for ax, key, title in ((axes[0], "dead_fraction", "dead units (all data)"), (axes[1], "sparsity", "sparsity")):
            ax.barh(ypos + 0.2, t[key], height=0.4, color="#c0392b", label="model")
            ax.barh(ypos - 0.2, t[f"{key}_init"], height=0.4, color="#95a5a6", label="same architecture at init")
            ax.set_xlim(0, 1)
            ax.set_title(title)
        axes[0].set_yticks(ypos, t["where"], fontsize=7)
        axes[0].invert_yaxis()
        axes[1].legend(fontsize=7, loc="lower right")
        fig.suptitle("Activation health per layer: model vs re-initialised copy on the same inputs", fontsize=10)
        fig.tight_layout()
        figs["activations"] = fig
    if diag.cka_matrix is not None and len(diag.cka_names) >= 2:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        im = axes[0].imshow(diag.cka_matrix.numpy(), vmin=0, vmax=1, cmap="viridis")
        n = len(diag.cka_names)
        axes[0].set_xticks(range(n), diag.cka_names, rotation=90, fontsize=7)
        axes[0].set_yticks(range(n), diag.cka_names, fontsize=7)
        axes[0].set_title("debiased CKA between layers")
        fig.colorbar(im, ax=axes[0], fraction=0.046)
        c = diag.cka
        axes[1].plot(range(len(c)), c["cka"], "o-", color="#c0392b", label="model")
        axes[1].plot(range(len(c)), c["cka_init"], "s--", color="#95a5a6", label="at init")
        axes[1].axhline(diag.meta.get("redundant_cka", 0.95), color="k", lw=0.8, ls=":", label="redundant (>= 0.95)")
        axes[1].set_xticks(range(len(c)), c["pair"], rotation=60, fontsize=7, ha="right")
        vals = c[["cka", "cka_init"]].to_numpy(dtype=float)
        vals = vals[np.isfinite(vals)]
        axes[1].set_ylim(min(0.0, float(vals.min())) if vals.size else 0.0, 1.05)
        axes[1].set_title("consecutive layers")
        axes[1].legend(fontsize=7)
        fig.tight_layout()
        figs["redundancy"] = fig
    if diag.training is not None:
        f = diag.training.frame
        fig, axes = plt.subplots(1, 3, figsize=(12, 3))
        axes[0].plot(diag.training.losses)
        axes[0].set_title("training loss")
        for key in ("zero_grad_fraction", "retained_fraction", "sign_flip_fraction"):
            axes[1].plot(f.index, f[key], label=key.replace("_", " "))
        axes[1].set_ylim(0, 1)
        axes[1].legend(fontsize=7)
        axes[1].set_title("gradient tracker")
        axes[1].set_xlabel("step")
        lz = diag.training.layer_zero
        for col in lz.columns[:12]:
            axes[2].plot(lz.index, lz[col], label=col)
        axes[2].set_ylim(0, 1)
        axes[2].set_title("zero-gradient fraction per layer")
        axes[2].legend(fontsize=6)
        fig.tight_layout()
        figs["training"] = fig
    if diag.vae is not None:
        fig, ax = plt.subplots(figsize=(6, 2.8))
        d = diag.vae.kl.numel()
        ax.bar(range(d), diag.vae.kl.numpy(), color=["#27ae60" if a else "#c0392b" for a in diag.vae.active.tolist()])
        ax.set_xlabel("latent unit (green: active, red: inactive)")
        ax.set_ylabel("KL (nats)")
        ax.set_title("KL per latent unit")
        fig.tight_layout()
        figs["vae"] = fig
    return figs


def png_bytes(fig, dpi: int = 90) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


# -- markdown -----------------------------------------------------------------------------------------
def _md_table(df, digits: int = 3) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(map(str, cols)) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        cells = [(f"{v:.{digits}g}" if isinstance(v, float) and not math.isnan(v) else ("n/a" if isinstance(v, float) else str(v)))
                 .replace("|", "/") for v in r]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def findings_markdown(diag) -> str:
    if not diag.findings:
        return "No findings: every rule passed."
    lines = ["| severity | finding | layer | value | threshold | evidence |", "|---|---|---|---|---|---|"]
    for f in diag.findings:
        lines.append(f"| **{f.severity}** | {f.name} | `{f.layer}` | {fmt(f.value)} | {fmt(f.threshold)} | "
                     f"`{f.source.notebook}`"
                     + (f" `{', '.join(f.source.claims)}`" if f.source.claims else "") + " |")
    lines.append("")
    for i, f in enumerate(diag.findings, 1):
        lines.append(f"{i}. **{f.severity}: {f.name}** at `{f.layer}`: {f.message}")
        lines.append(f"   - evidence: {f.source.summary} ({f.source.cite()})")
        for k, fix in enumerate(f.fixes, 1):
            lines.append(f"   - fix {k}: {fix}")
    return "\n".join(lines)


def _header(diag) -> list[str]:
    m = diag.meta
    tm = m["timings"]
    lines = [f"- model: `{m['model']}` ({m['parameters']:,} parameters)",
             f"- data: {m['data']}; dead units counted over all {m['samples']} inputs; profile on {m['profile_samples']}, "
             f"CKA on {m['cka_samples']}",
             f"- reference (the architecture at initialisation, same inputs): {m.get('reference', 'a re-initialised copy')}",
             f"- time: {tm['total']:.1f} s (" + ", ".join(f"{k} {v:.1f} s" for k, v in tm.items() if k != "total") + ")",
             f"- findings: {diag.summary()}"]
    if m.get("train"):
        tr = m["train"]
        lines.insert(3, f"- training run: a copy, {tr['steps']} steps of {tr['optimizer']} at lr {tr['lr']:g}")
    if m.get("sites_are_children"):
        lines.append("- no activation modules found (functional activations?): measured the top-level children")
    return lines


def layer_columns(diag):
    t = diag.layers.copy()
    cols = ["where", "units", "dead", "dead_first_batch", "dead_fraction", "dead_fraction_init", "sparsity",
            "sparsity_init", "channel_entropy", "channel_entropy_init", "spatial_diversity", "spatial_diversity_init"]
    return t[[c for c in cols if c in t.columns]]


def to_markdown(diag, images: dict[str, str] | None = None) -> str:
    parts = ["# nblib doctor report", "", *_header(diag), "", "## Findings", "", findings_markdown(diag), "",
             "## Activation health per layer", "",
             "Dead: units with |a| <= 1e-6 on every input (census over all data; `dead_first_batch`: what one batch "
             "would say). `*_init`: the same architecture re-initialised, same inputs (profile `relative_to_init`).", "",
             _md_table(layer_columns(diag))]
    if images and "activations" in images:
        parts += ["", f"![activations]({images['activations']})"]
    parts += ["", "## Layer redundancy (debiased CKA)", ""]
    parts += [_md_table(diag.cka) if len(diag.cka) else "Fewer than two blocks to compare."]
    if images and "redundancy" in images:
        parts += ["", f"![redundancy]({images['redundancy']})"]
    if diag.training is not None:
        f = diag.training.frame
        parts += ["", "## Short training run", "",
                  f"{diag.training.steps} steps of {diag.training.optimizer} (lr {diag.training.lr:g}); loss "
                  f"{diag.training.losses[0]:.3f} -> {diag.training.losses[-1]:.3f}; mean zero-gradient fraction "
                  f"{f['zero_grad_fraction'].mean():.3f}, sign flips {f['sign_flip_fraction'].mean():.3f}.", ""]
        if diag.training_layers is not None:
            after = diag.training_layers[["where", "units", "dead_fraction_init", "dead_fraction"]].rename(
                columns={"dead_fraction_init": "dead before", "dead_fraction": "dead after"})
            parts += [_md_table(after)]
        if images and "training" in images:
            parts += ["", f"![training]({images['training']})"]
    if diag.vae is not None:
        v = diag.vae
        parts += ["", "## Gaussian VAE", "",
                  f"{int(v.active.sum())} of {v.kl.numel()} latent units active; total KL {float(v.kl.sum()):.3g} nats; "
                  f"reconstruction reaches mu: {v.recon_reaches_mu}; mu requires grad: {v.mu_requires_grad}.", "",
                  "KL per unit (nats): " + ", ".join(f"{k:.3g}" for k in v.kl.tolist())]
        if images and "vae" in images:
            parts += ["", f"![vae]({images['vae']})"]
    parts += ["", "## Rules and evidence", ""]
    parts += [f"- {e.cite()}: {e.summary}" for e in EVIDENCE.values()]
    return "\n".join(parts) + "\n"


# -- HTML --------------------------------------------------------------------------------------------
CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;font-size:13px;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top}
th{background:#f3f3f3}.sev{color:#fff;font-weight:bold;padding:1px 6px;border-radius:3px}img{max-width:100%}
code{background:#f5f5f5;padding:0 3px}"""


def findings_html(diag) -> str:
    if not diag.findings:
        return "<p>No findings: every rule passed.</p>"
    rows = []
    for f in diag.findings:
        fixes = "<ol>" + "".join(f"<li>{html.escape(x)}</li>" for x in f.fixes) + "</ol>" if f.fixes else ""
        claims = f"<br><code>{html.escape(', '.join(f.source.claims))}</code>" if f.source.claims else ""
        rows.append(f"<tr><td><span class='sev' style='background:{COLOURS[f.severity]}'>{f.severity}</span></td>"
                    f"<td><b>{html.escape(f.name)}</b><br><small>{html.escape(f.code)}</small></td>"
                    f"<td><code>{html.escape(f.layer)}</code></td><td>{fmt(f.value)}</td><td>{fmt(f.threshold)}</td>"
                    f"<td>{html.escape(f.message)}</td><td><code>{html.escape(f.source.notebook)}</code>{claims}"
                    f"<br><small>{html.escape(f.source.summary)}</small></td><td>{fixes}</td></tr>")
    head = "".join(f"<th>{h}</th>" for h in ("severity", "finding", "layer", "value", "threshold", "what", "evidence", "fixes (ranked)"))
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def to_html(diag, pngs: dict[str, bytes] | None = None) -> str:
    import matplotlib.pyplot as plt

    if pngs is None:
        figs = figures(diag)
        pngs = {k: png_bytes(f) for k, f in figs.items()}
        for f in figs.values():
            plt.close(f)

    def img(name):
        if name not in pngs:
            return ""
        return f"<img alt='{name}' src='data:image/png;base64,{base64.b64encode(pngs[name]).decode()}'>"

    def table(df):
        return df.to_html(float_format=lambda v: f"{v:.3g}", na_rep="n/a", border=0)

    body = ["<h1>nblib doctor report</h1>", "<ul>" + "".join(f"<li>{html.escape(l[2:]).replace('`', '')}</li>" for l in _header(diag)) + "</ul>",
            "<h2>Findings</h2>", findings_html(diag), "<h2>Activation health per layer</h2>",
            "<p>Dead: |a| &le; 1e-6 on every input (census over all data); <code>*_init</code>: the same architecture "
            "re-initialised, on the same inputs.</p>", img("activations"), table(layer_columns(diag)),
            "<h2>Layer redundancy (debiased CKA)</h2>", img("redundancy"), table(diag.cka) if len(diag.cka) else ""]
    if diag.training is not None:
        body += ["<h2>Short training run</h2>", img("training")]
        if diag.training_layers is not None:
            body.append(table(diag.training_layers[["where", "units", "dead_fraction_init", "dead_fraction"]].rename(
                columns={"dead_fraction_init": "dead before", "dead_fraction": "dead after"})))
    if diag.vae is not None:
        v = diag.vae
        body += ["<h2>Gaussian VAE</h2>", f"<p>{int(v.active.sum())} of {v.kl.numel()} latent units active; total KL "
                 f"{float(v.kl.sum()):.3g} nats; reconstruction reaches mu: {v.recon_reaches_mu}.</p>", img("vae")]
    body += ["<h2>Rules and evidence</h2><ul>"] + [f"<li>{html.escape(e.cite())}: {html.escape(e.summary)}</li>"
                                                    for e in EVIDENCE.values()] + ["</ul>"]
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>nblib doctor report</title><style>{CSS}</style>"
            f"</head><body>{''.join(body)}</body></html>")


def save(diag, report_dir) -> Path:
    """Write report.md, report.html and one PNG per plot into ``report_dir`` (staged: all or nothing)."""
    import matplotlib.pyplot as plt

    with StagedDir(report_dir, flag="--report-dir") as stage:
        figs = figures(diag)
        pngs = {k: png_bytes(f) for k, f in figs.items()}
        for f in figs.values():
            plt.close(f)
        for k, b in pngs.items():
            (stage.path / f"{k}.png").write_bytes(b)
        (stage.path / "report.md").write_text(to_markdown(diag, {k: f"{k}.png" for k in pngs}))
        (stage.path / "report.html").write_text(to_html(diag, pngs))
        return stage.commit()


__all__ = ["figures", "findings_html", "findings_markdown", "save", "to_html", "to_markdown"]
