#!/usr/bin/python3
"""Reference outputs and checkpoint layouts of the two transformer heads' original code, for
the C++ tests of head/query2label and head/transformer. No weights are stored: every tensor
is set by a formula the C++ test repeats.

  heads    Runs Query2Label's own head (SlongLiu/query2labels: lib/models/query2label.py,
           transformer.py, position_encoding.py, backbone.py's Joiner) and CPSD's ResNet101-TF
           (Robbie-Xu/CPSD: model/model_trans_101.py, model/vit_transformer.py) on a feature
           map and prints tests/weights/transformer_heads_expected.json.
  layouts  Builds the authors' whole models (Q2L-R101, Q2L-TResNet-L, CPSD's Q2L copy, CPSD's
           R101-TF) and prints tests/weights/authors_layouts.json: the state-dict keys and
           shapes as their scripts save them, the wrapper around them, and the cpsd
           full-model key each one lands on.

usage (each PATH is a checkout or a git directory of the repository):
  transformer_heads_fixture.py heads   Q2L_PATH CPSD_PATH > tests/weights/transformer_heads_expected.json
  transformer_heads_fixture.py layouts Q2L_PATH CPSD_PATH > tests/weights/authors_layouts.json
e.g. with the mirrors: .../SlongLiu+query2labels/repo .../Robbie-Xu+CPSD/repo

Weights: every floating tensor of the head's state dict (parameters and buffers, not
num_batches_tracked), named by cpsd's name of it, is
  t = sin(1.7 i + 0.3 len(name)) in float64 over the row-major flat index i, then
  dim >= 2: 2 / sqrt(numel / shape[0]) * t;  dim <= 1 and name ends in "weight": 1 + 0.1 t;
  otherwise 0.1 t;  cast to float32.
Input: x[i] = 0.5 + 0.5 sin(0.37 i) cos(0.011 i) over the flat index of [2, C, H, W], float64
then float32. The heads run in eval mode (dropout off).

The authors' heads hang off their backbones; here the backbone is replaced by the identity on
the feature map and the authors' own forward runs from there: Q2L through its Joiner (a body
returning the map, then PositionEmbeddingSine for that map's size), ResNet101-TF with
identities in place of the ResNet stages. Their code's unused imports that are not installed
here (einops for vit_transformer if missing, tqdm, addict/yapf via utils.misc, timm via
cls_cvt/swin, inplace_abn, CUDA for TResNet's anti-alias filter) are replaced by stubs that
only define names; einops.rearrange gets a small equivalent for the patterns that file uses.
"""
import argparse
import contextlib
import copy
import functools
import importlib
import importlib.util
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import types

import torch
import torch.nn as nn
import torchvision

Q2L_FILES = ["lib", "main_mlc.py", "q2l_infer.py"]
CPSD_FILES = ["model", "utils", "train_B_part.py", "dis_B_cpsd.py", "validate.py"]


# ----------------------------------------------------------------------------- the recipe

def formula(name, shape):
    n = math.prod(shape)
    t = torch.sin(1.7 * torch.arange(n, dtype=torch.float64) + 0.3 * len(name))
    if len(shape) >= 2:
        v = (2.0 / math.sqrt(n / shape[0])) * t
    elif name.endswith("weight"):
        v = 1.0 + 0.1 * t
    else:
        v = 0.1 * t
    return v.float().reshape(shape)


def feature_input(c, h, w):
    i = torch.arange(2 * c * h * w, dtype=torch.float64)
    return (0.5 + 0.5 * torch.sin(0.37 * i) * torch.cos(0.011 * i)).float().reshape(2, c, h, w)


def set_state(module, name_map):
    """Sets the head's floating tensors (the keys of name_map) by the formula of cpsd's names."""
    state = module.state_dict()
    with torch.no_grad():
        for key, cpsd_name in name_map.items():
            t = state[key]
            if t.is_floating_point() and not key.endswith("num_batches_tracked"):
                t.copy_(formula(cpsd_name, tuple(t.shape)))


def rounded(values):
    return [float(f"{v:.7g}") for v in values]


# ----------------------------------------------------------------------------- loading

def checkout(path, files):
    """A directory holding `files`: path itself, or a `git archive` of them from a git dir."""
    if os.path.exists(os.path.join(path, files[0])):
        return os.path.abspath(path)
    out = tempfile.mkdtemp(prefix="authors_")
    archive = subprocess.run(["git", "--git-dir", path, "archive", "HEAD"] + files,
                             check=True, stdout=subprocess.PIPE).stdout
    subprocess.run(["tar", "-x", "-C", out], input=archive, check=True)
    return out


def commit_of(path):
    for git_dir in (path, os.path.join(path, ".git")):
        r = subprocess.run(["git", "--git-dir", git_dir, "rev-parse", "HEAD"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if r.returncode == 0:
            return r.stdout.strip()
    return None


def stub(name, path=None, **names):
    m = types.ModuleType(name)
    if path is not None:
        m.__path__ = [path]
    m.__dict__.update(names)
    sys.modules[name] = m
    return m


def _unavailable(what):
    def f(*args, **kwargs):
        raise RuntimeError(what + " is not available in this fixture")
    return f


def einops_stub():
    """rearrange for the plain patterns of vit_transformer.py ('b n (h d) -> b h n d', ...)."""
    try:
        import einops  # noqa: F401
        return "einops " + einops.__version__
    except ImportError:
        pass

    def parse(side):  # "b n (h d)" -> [["b"], ["n"], ["h", "d"]]
        return [g.strip("()").split() for g in re.findall(r"\([^)]*\)|[^\s()]+", side)]

    def rearrange(t, pattern, **sizes):
        lhs, rhs = (parse(s) for s in pattern.split("->"))
        assert len(lhs) == t.dim(), pattern
        known = dict(sizes)
        for group, n in zip(lhs, t.shape):
            unknown = [a for a in group if a not in known]
            rest = math.prod(known[a] for a in group if a in known)
            assert len(unknown) <= 1 and (unknown or rest == n), pattern
            if unknown:
                known[unknown[0]] = n // rest
        axes = [a for g in lhs for a in g]
        t = t.reshape([known[a] for a in axes]).permute([axes.index(a) for g in rhs for a in g])
        return t.reshape([math.prod(known[a] for a in g) for g in rhs])

    class Rearrange(nn.Module):
        def __init__(self, pattern, **sizes):
            super().__init__()
            self.pattern, self.sizes = pattern, sizes

        def forward(self, x):
            return rearrange(x, self.pattern, **self.sizes)

    stub("einops", rearrange=rearrange, repeat=_unavailable("einops.repeat"))
    stub("einops.layers")
    stub("einops.layers.torch", Rearrange=Rearrange)
    return "einops not installed: rearrange by the fixture's equivalent (reshape + permute)"


def inplace_abn_stub():
    class InPlaceABNSync(nn.Module):
        """inplace_abn 1.1's state: weight, bias, running_mean, running_var, num_batches_tracked
        (1.0.x has no num_batches_tracked). For key listing only."""

        def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                     track_running_stats=True, activation="leaky_relu", activation_param=0.01,
                     group=None):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(num_features))
            self.bias = nn.Parameter(torch.zeros(num_features))
            self.register_buffer("running_mean", torch.zeros(num_features))
            self.register_buffer("running_var", torch.ones(num_features))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

        def forward(self, x):
            raise RuntimeError("InPlaceABNSync stub: key listing only")

    stub("inplace_abn", InPlaceABNSync=InPlaceABNSync, InPlaceABN=InPlaceABNSync)


def no_download(fn):
    """torchvision constructors without ImageNet weights (no network here): same keys."""
    @functools.wraps(fn)
    def f(*args, **kwargs):
        kwargs.pop("pretrained", None)
        kwargs["weights"] = None
        return fn(*args, **kwargs)
    return f


def load_q2l(root):
    """Q2L's lib/models as package `models`, without its __init__ (which imports CvT/Swin)."""
    lib = os.path.join(root, "lib")
    stub("utils", os.path.join(lib, "utils"))
    stub("utils.misc", clean_state_dict=_unavailable("utils.misc.clean_state_dict"))
    models = stub("models", os.path.join(lib, "models"))
    stub("models.cls_cvt", build_CvT=_unavailable("CvT"))
    stub("models.swin_transformer", build_swin_transformer=_unavailable("Swin"))
    inplace_abn_stub()
    tresnet = importlib.import_module("models.tresnet")
    sync = sys.modules["models.tresnet.tresnet_sync"]
    # DownsampleJIT builds its (state-less) filter with .cuda(); Downsample is the same op.
    sync.AntiAliasDownsampleLayer = functools.partial(sync.AntiAliasDownsampleLayer,
                                                      remove_model_jit=True)
    models.tresnetl = tresnet.tresnetl
    pe = importlib.import_module("models.position_encoding")
    tf = importlib.import_module("models.transformer")
    bb = importlib.import_module("models.backbone")
    q2l = importlib.import_module("models.query2label")
    return types.SimpleNamespace(pe=pe, transformer=tf, backbone=bb, query2label=q2l)


def load_cpsd(root):
    stub("utils", os.path.join(root, "utils"))
    stub("utils.util")  # download helpers (tqdm); model_trans_101 star-imports it unused
    stub("model", os.path.join(root, "model"))
    stub("model.q2l_utils", os.path.join(root, "model", "q2l_utils"))
    stub("model.q2l_utils.misc", clean_state_dict=_unavailable("clean_state_dict"))
    return types.SimpleNamespace(
        trans_101=importlib.import_module("model.model_trans_101"),
        vit=sys.modules["model.vit_transformer"],
        q2l=importlib.import_module("model.model_q2l"))


def clear_modules():
    for name in list(sys.modules):
        if name.split(".")[0] in ("models", "model", "utils"):
            del sys.modules[name]


# ----------------------------------------------------------------------------- heads

class FeatureBody(nn.Module):
    """In place of Q2L's BackboneBase: the body's output dict is the feature map itself."""

    def forward(self, x):
        return {"0": x}


def q2l_args(o, classes):
    return argparse.Namespace(
        hidden_dim=o["hidden_dim"], nheads=o["heads"], enc_layers=o["encoder_layers"],
        dec_layers=o["decoder_layers"], dim_feedforward=o["feedforward"], dropout=0.1,
        pre_norm=False, keep_other_self_attn_dec=False, keep_first_self_attn_dec=False,
        keep_input_proj=o["input_proj"], num_class=classes)


def toml(options):
    def value(v):
        return ("true" if v else "false") if isinstance(v, bool) else json.dumps(v)
    return "".join(f"{k} = {value(v)}\n" for k, v in options.items())


def run_both(head, call, x):
    """float32 logits, and how far they are from the same weights run in float64."""
    with torch.no_grad():
        y = call(head, x)
        y64 = call(copy.deepcopy(head).double(), x.double())
    return y, (y.double() - y64).abs().max().item()


def q2l_case(q, label, options, classes, channels, h, w):
    args = q2l_args(options, classes)

    def feature_backbone(a):
        joiner = q.backbone.Joiner(
            FeatureBody(), q.pe.PositionEmbeddingSine(a.hidden_dim // 2, normalize=True,
                                                      maxH=h, maxW=w), a)
        joiner.num_channels = channels
        return joiner

    q.query2label.build_backbone = feature_backbone  # the name build_q2l calls
    torch.manual_seed(0)
    model = q.query2label.build_q2l(args)
    model.eval()
    head_keys = [k for k in model.state_dict() if not k.startswith("backbone.")]
    name_map = {k: k for k in head_keys}  # cpsd's head uses Q2L's names
    set_state(model, name_map)
    x = feature_input(channels, h, w)
    logits, f64 = run_both(model, lambda m, v: m(v), x)
    state = model.state_dict()
    return {
        "name": label, "head": "query2label", "paper": label.endswith("_paper"),
        "options": toml(options),
        "authors_options": {k: v for k, v in vars(args).items()},
        "classes": classes, "channels": channels, "height": h, "width": w,
        "name_map": name_map,
        "state": {name_map[k]: list(state[k].shape) for k in head_keys},
        "parameters": sum(state[k].numel() for k in head_keys),
        "inputs": "features = {x}: the backbone's last map [2, C, H, W]; no class vectors",
        "logits_max_abs": round(logits.abs().max().item(), 6),
        "float64_max_abs_diff": float(f"{f64:.3g}"),
        "logits": rounded(logits.flatten().tolist())}


class Stages:
    """In place of the torchvision ResNet ResNet101TF copies its stages from: identities."""

    def __init__(self):
        for n in ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"):
            setattr(self, n, nn.Identity())


def transformer_case(c, label, options, classes, h, w):
    t = c.trans_101
    # model_trans_101's hyper-parameters are module globals (its forward reads dim_inp too).
    t.dim_inp, t.depth, t.heads = options["dim"], options["depth"], options["heads"]
    t.dim_head, t.dim_ff = options["dim_head"], options["mlp_dim"]
    channels, emb = 2048, 300  # nn.Linear(2048, dim_inp) and nn.Linear(300, dim_inp) in the file
    torch.manual_seed(0)
    model = t.ResNet101TF(Stages(), None)
    model.eval()
    head_keys = list(model.state_dict())
    name_map = {k: k for k in head_keys}  # cpsd's head uses the same names
    set_state(model, name_map)
    vectors = formula("class_vectors", (classes, emb))
    x = feature_input(channels, h, w)
    # The authors' batch carries the class vectors per image and the model reads attr[0].
    logits, f64 = run_both(model, lambda m, v: m(v, vectors[None].to(v.dtype)), x)
    state = model.state_dict()
    shapes = {name_map[k]: list(state[k].shape) for k in head_keys}
    shapes["class_vectors"] = [classes, emb]
    cpsd_options = dict(dim=options["dim"], depth=options["depth"], heads=options["heads"],
                        dim_head=options["dim_head"], mlp_dim=options["mlp_dim"],
                        embeddings="learned", embedding_dim=emb)
    return {
        "name": label, "head": "transformer", "paper": label.endswith("_paper"),
        "options": toml(cpsd_options),
        "authors_options": {"dim_inp": t.dim_inp, "depth": t.depth, "heads": t.heads,
                            "dim_head": t.dim_head, "dim_ff": t.dim_ff, "dropout": 0.1},
        "classes": classes, "channels": channels, "height": h, "width": w,
        "name_map": name_map,
        "state": shapes,
        "parameters": sum(v.numel() for v in state.values()) + classes * emb,
        "inputs": ("features = {x}; class vectors: formula(\"class_vectors\", [classes, 300]), "
                   "given to the authors' forward(feature, attr) as attr = vectors[None] (it "
                   "reads attr[0]); in cpsd (embeddings = \"learned\") they are the head's "
                   "parameter class_vectors, set by the formula like every other parameter"),
        "logits_max_abs": round(logits.abs().max().item(), 6),
        "float64_max_abs_diff": float(f"{f64:.3g}"),
        "logits": rounded(logits.flatten().tolist())}


def heads(q2l_root, cpsd_root, q2l_commit, cpsd_commit):
    q = load_q2l(q2l_root)
    def q2l(d, heads_, enc, dec, ff, proj):
        return dict(hidden_dim=d, heads=heads_, encoder_layers=enc, decoder_layers=dec,
                    feedforward=ff, input_proj=proj)
    cases = [
        q2l_case(q, "q2l_small_input_proj", q2l(32, 4, 1, 2, 48, True), 5, 24, 3, 4),
        q2l_case(q, "q2l_small_no_input_proj", q2l(16, 2, 2, 1, 40, False), 3, 16, 2, 5),
        q2l_case(q, "q2l_no_encoder", q2l(24, 3, 0, 3, 20, True), 4, 8, 1, 3),
        # Q2L-R101-448 on COCO as CPSD's copy (and cpsd's defaults) have it: input_proj kept.
        q2l_case(q, "q2l_r101_448_paper", q2l(2048, 4, 1, 2, 8192, True), 80, 2048, 14, 14),
    ]
    clear_modules()
    einops = einops_stub()
    c = load_cpsd(cpsd_root)
    def tf(dim, depth, heads_, dim_head, mlp):
        return dict(dim=dim, depth=depth, heads=heads_, dim_head=dim_head, mlp_dim=mlp)
    cases += [
        transformer_case(c, "transformer_small", tf(32, 2, 4, 8, 48), 5, 2, 3),
        transformer_case(c, "transformer_inner_width", tf(24, 1, 2, 20, 16), 3, 3, 1),
        # One head as wide as the tokens: the authors' attention has no output projection.
        transformer_case(c, "transformer_one_head", tf(16, 1, 1, 16, 16), 3, 2, 2),
        # CPSD's R101-TF at 448 on COCO: the file's own hyper-parameters.
        transformer_case(c, "transformer_r101tf_448_paper", tf(1024, 3, 4, 1024, 1024), 80,
                         14, 14),
    ]
    return {
        "source": {
            "query2label": ("SlongLiu/query2labels " + str(q2l_commit) + ": lib/models/"
                            "query2label.py build_q2l + Qeruy2Label.forward, transformer.py, "
                            "position_encoding.py PositionEmbeddingSine(hidden_dim // 2, "
                            "normalize=True, maxH=H, maxW=W), backbone.py Joiner around a body "
                            "that returns the feature map (the backbone's pe buffer is not part "
                            "of the head and keeps its computed values)"),
            "transformer": ("Robbie-Xu/CPSD " + str(cpsd_commit) + ": model/model_trans_101.py "
                            "ResNet101TF(model, params).forward(feature, attr) with its ResNet "
                            "stages replaced by identities (the file fixes 2048 input channels "
                            "and 300-d class vectors; dim_inp/depth/heads/dim_head/dim_ff are "
                            "set as its module globals), model/vit_transformer.py"),
            "einops": einops,
        },
        "recipe": {
            "weights": ("t = sin(1.7 i + 0.3 len(name)) (float64, flat row-major index i; name = "
                        "the cpsd name, name_map gives it for each authors' name); dim >= 2: "
                        "2 / sqrt(numel / shape[0]) * t; dim <= 1 and name ends in 'weight': "
                        "1 + 0.1 t; else 0.1 t; then float32. Every floating tensor of the "
                        "head's state (not num_batches_tracked)"),
            "input": "x = 0.5 + 0.5 sin(0.37 i) cos(0.011 i) over [2, C, H, W] (float64, then float32)",
            "mode": "eval",
            "paper": ("true for the cases at the paper's size (Q2L-R101-448: a 155.6M-parameter "
                      "head; R101-TF-448: 59.1M); the others are small"),
            "float64_max_abs_diff": ("max |float32 logits - the same weights and input run in "
                                     "float64|: the size of float32 rounding in these logits"),
        },
        "torch": torch.__version__,
        "cases": cases,
    }


# ----------------------------------------------------------------------------- layouts

def resnet101_keys():
    m = torchvision.models.resnet101(weights=None)
    return {k: list(v.shape) for k, v in m.state_dict().items() if not k.startswith("fc.")}


TRESNET_RENAMES = [(r"(conv\d)\.0\.0\.", r"\1.conv."), (r"(conv\d)\.0\.1\.", r"\1.bn."),
                   (r"(conv\d)\.0\.", r"\1.conv."), (r"(conv\d)\.1\.", r"\1.bn."),
                   (r"(downsample\.\d)\.0\.", r"\1.conv."), (r"(downsample\.\d)\.1\.", r"\1.bn.")]


def tresnet_cpsd_name(name):
    """plugins/tresnet/tresnet.cpp TResNet::adapt_pretrained on an original-naming key."""
    for pattern, replacement in TRESNET_RENAMES:
        name = re.sub(pattern, replacement, name)
    return name


def rename(key, rules):
    for a, b in rules:
        if key.startswith(a):
            return b + key[len(a):]
    return key


def layout(name, module, rules, cpsd_of, nulls, **info):
    state = module.state_dict()
    keys = []
    for k, v in state.items():
        target = cpsd_of(rename(k, rules)) if k not in nulls else None
        keys.append([k, list(v.shape), target])
    out = dict(name=name, **info)
    out["pretrained_rename"] = [f"{a}=>{b}" for a, b in rules if b is not None]
    out["null_keys"] = nulls
    out["key_count"] = len(keys)
    out["keys"] = keys
    return out


def q2l_layouts(q, commit):
    tv = torchvision.models.resnet101
    torchvision.models.resnet101 = no_download(tv)
    try:
        r101 = q.query2label.build_q2l(argparse.Namespace(
            backbone="resnet101", pretrained=False, img_size=448, position_embedding="sine",
            hidden_dim=2048, dim_feedforward=8192, enc_layers=1, dec_layers=2, nheads=4,
            dropout=0.1, pre_norm=False, keep_other_self_attn_dec=False,
            keep_first_self_attn_dec=False, keep_input_proj=False, num_class=80))
    finally:
        torchvision.models.resnet101 = tv
    tres = q.query2label.build_q2l(argparse.Namespace(
        backbone="tresnetl", pretrained=False, img_size=448, position_embedding="sine",
        hidden_dim=2432, dim_feedforward=2432, enc_layers=1, dec_layers=2, nheads=4,
        dropout=0.1, pre_norm=False, keep_other_self_attn_dec=False,
        keep_first_self_attn_dec=False, keep_input_proj=False, num_class=80))
    head_rules = [("transformer.", "head.transformer."), ("query_embed.", "head.query_embed."),
                  ("input_proj.", "head.input_proj."), ("fc.", "head.fc.")]
    saved = {
        "file": "model_best.pth.tar (main_mlc.py save_checkpoint; released as checkpoint.pkl)",
        "torch_save": ("torch.save({'epoch': int, 'arch': str, 'state_dict': STATE, "
                       "'best_mAP': float, 'optimizer': optimizer.state_dict()})"),
        "state_dict_entry": "state_dict",
        "prefixes": {"": "STATE = ema_m.module.state_dict() (the EMA won: ModelEma wraps the "
                         "model before DDP, so no prefix)",
                     "module.": "STATE = model.state_dict() of the DistributedDataParallel model"},
        "loaded_by": ("main_mlc.py --resume / q2l_infer.py: clean_state_dict(checkpoint"
                      "['state_dict']) strips a leading 'module.', then load_state_dict"),
        "cpsd_reads": ("core/src/weights/state_dict.cpp picks the 'state_dict' entry "
                       "(preferring state_dict_ema, model_ema, state_dict, model) and strips "
                       "'module.' prefixes"),
    }
    pe_why = ("PositionEmbeddingSine's precomputed buffer for img_size/32 x img_size/32; cpsd "
              "computes the same sine encoding for each map's size (Query2Label::"
              "position_encoding) and has no such buffer: it reaches the backbone's load report "
              "as unexpected '1.pe' under these renames")
    r101_rules = [("backbone.0.body.", "backbone."), ("backbone.1.pe", None)] + head_rules
    out = []
    out.append(layout(
        "q2l_r101_448", r101, [(a, b) for a, b in r101_rules if b is not None],
        lambda k: k, {"backbone.1.pe": pe_why},
        repo="SlongLiu/query2labels", commit=commit,
        model=("lib/models/query2label.py build_q2l with the README's Q2L-R101-448 command: "
               "--backbone resnet101 --img_size 448 --hidden_dim 2048 --dim_feedforward 8192 "
               "--enc_layers 1 --dec_layers 2 --nheads 4 (no --keep_input_proj: input_proj is "
               "nn.Identity, no keys), 80 classes; backbone FrozenBatchNorm2d (weight, bias, "
               "running_mean, running_var as buffers, no num_batches_tracked)"),
        saved=saved,
        cpsd_config=("[model]\nbackbone = \"resnet101\"\nhead = \"query2label\"\n"
                     "[head.query2label]\ninput_proj = false\n"),
        cpsd_keys_not_in_file=("backbone.*num_batches_tracked (optional to cpsd's loader); "
                               "nothing else when input_proj = false (with cpsd's default "
                               "input_proj = true: head.input_proj.weight/bias are missing)"),
        notes=("At 576 the only change is backbone.1.pe [1, 2048, 18, 18]. Q2L runs with "
               "--keep_first_self_attn_dec / --keep_other_self_attn_dec (decoder self-attention:"
               " self_attn.*, norm1.* keys in decoder layers) or --pre_norm have no cpsd "
               "counterpart.")))
    tres_rules = r101_rules
    out.append(layout(
        "q2l_tresnetl_448", tres, [(a, b) for a, b in tres_rules if b is not None],
        lambda k: ("backbone." + tresnet_cpsd_name(k[9:])) if k.startswith("backbone.") else k,
        {"backbone.1.pe": pe_why},
        repo="SlongLiu/query2labels", commit=commit,
        model=("build_q2l with --backbone tresnetl --img_size 448 --hidden_dim 2432 "
               "--dim_feedforward 2432 --enc_layers 1 --dec_layers 2 --nheads 4, no "
               "--keep_input_proj, 80 classes (the Q2L-TResL-448 settings as a public run "
               "script gives them; the authors' config_new.json is not in the repository). "
               "TResNet (lib/models/tresnet/tresnet_sync.py) with InPlaceABNSync: keys listed "
               "with inplace_abn 1.1's num_batches_tracked (1.0.x files lack them); "
               "IntermediateLayerGetter keeps only TResNet.body, so no global_pool/head.fc keys"),
        saved=saved,
        cpsd_config=("[model]\nbackbone = \"tresnet_l\"\nhead = \"query2label\"\n"
                     "[head.query2label]\nhidden_dim = 2432\nfeedforward = 2432\n"
                     "input_proj = false\n"),
        cpsd_keys_not_in_file="none (cpsd's tresnet_l has no anti-alias filter buffers)",
        notes=("cpsd key = 'backbone.' + TResNet::adapt_pretrained(name after 'backbone.0.body.')"
               ": convN.0[.0] -> convN.conv, convN.1 / convN.0.1 -> convN.bn, downsample.K.0/.1 "
               "-> downsample.K.conv/.bn, and every .bn.weight becomes |w| + 1e-5 (InplaceABN's "
               "effective scale). This only fires when the backbone's names contain "
               "'body.conv1.0.weight', which holds after the rename.")))
    return out


def cpsd_layouts(c, commit):
    args = argparse.Namespace(pretrain="", num_classes=80, image_size=448)
    tf_model = c.trans_101.build_model(args)
    tv = torchvision.models.resnet101
    torchvision.models.resnet101 = no_download(tv)
    try:
        q2l_model = c.q2l.build_model(args)
    finally:
        torchvision.models.resnet101 = tv
    saved = {
        "file": ("train_B_part.py: models/<name><part>-<mAP>.ckpt; dis_B_cpsd.py: "
                 "<model_root>/<name>-<mAP>-<epoch>.ckpt and <name>.ckpt"),
        "torch_save": "torch.save(STATE) - a bare OrderedDict of tensors, no wrapper dict",
        "prefixes": {"module.": "STATE = model.state_dict() of torch.nn.DataParallel(model) ('regular')",
                     "module.module.": ("STATE = ema.state_dict(), ModelEma holding a deepcopy of "
                                        "the DataParallel model as .module ('ema')")},
        "loaded_by": ("validate.py / dis_B_cpsd.py load_teacher: {k.replace('module.', ''): v} "
                      "then load_state_dict (strict)"),
        "cpsd_reads": "a dict of tensors as it is; 'module.' prefixes stripped",
    }
    stage = [("features.0.", "backbone.conv1."), ("features.1.", "backbone.bn1."),
             ("features.4.", "backbone.layer1."), ("features.5.", "backbone.layer2."),
             ("features.6.", "backbone.layer3."), ("features.7.", "backbone.layer4.")]
    tf_rules = stage + [("fc.", "head.fc."), ("label_emb.", "head.label_emb."),
                        ("transformer.", "head.transformer."), ("classify.", "head.classify.")]
    out = [layout(
        "cpsd_r101tf_448", tf_model, tf_rules, lambda k: k, {},
        repo="Robbie-Xu/CPSD", commit=commit,
        model=("model/model_trans_101.py build_model: ResNet101TF(torchvision resnet101) with "
               "dim_inp 1024, depth 3, heads 4, dim_head 1024, dim_ff 1024, 80 classes (COCO); "
               "features = Sequential(conv1, bn1, relu, maxpool, layer1..layer4) -> "
               "features.0/.1/.4/.5/.6/.7; the torchvision model's own fc is not kept"),
        saved=saved,
        cpsd_config=("[model]\nbackbone = \"resnet101\"\nhead = \"transformer\"\n"
                     "[head.transformer]\nembeddings = \"glove\"\nglove = \"...\"\n"),
        cpsd_keys_not_in_file=("head.class_vectors: the authors feed the class vectors as an "
                               "input (data/coco/coco_glove_word2vec.pkl, [80, 300], per batch, "
                               "cast to half); cpsd keeps them as the head's buffer (glove) or "
                               "parameter (learned), so the file never has them"),
        notes=("'fc.0' here is the 2048 -> 1024 token projection of the head, not a classifier, "
               "and 'classify.0' is the read-out: with no rename, fc.* and classify.* (and "
               "transformer.*, label_emb.*) go to the backbone as unexpected, since "
               "head/transformer claims no foreign prefix. features.2 (ReLU) and features.3 "
               "(MaxPool) have no keys."))]
    q2l_rules = [("backbone.0.body.", "backbone."), ("transformer.", "head.transformer."),
                 ("query_embed.", "head.query_embed."), ("input_proj.", "head.input_proj."),
                 ("fc.", "head.fc.")]
    out.append(layout(
        "cpsd_q2l_448", q2l_model, q2l_rules, lambda k: k,
        {"backbone.1.pe": ("PositionEmbeddingSine buffer [1, 2048, 14, 14]; cpsd computes the "
                           "encoding (no counterpart): unexpected '1.pe' in the backbone report")},
        repo="Robbie-Xu/CPSD", commit=commit,
        model=("model/model_q2l.py build_model: Q2L's code copied under model/q2l_utils with "
               "d_model 2048, 4 heads, FFN 8192, 1 encoder + 2 decoder layers, no decoder "
               "self-attention, post-norm hard-coded; ResNet101 with FrozenBatchNorm2d; "
               "input_proj (2048 -> 2048 1x1 conv) kept, unlike Q2L's build_q2l"),
        saved=saved,
        cpsd_config=("[model]\nbackbone = \"resnet101\"\nhead = \"query2label\"\n"
                     "# input_proj = true (the default)\n"),
        cpsd_keys_not_in_file="backbone.*num_batches_tracked (optional to cpsd's loader)",
        notes="Same key set as q2l_r101_448 plus input_proj.weight [2048, 2048, 1, 1] and input_proj.bias."))
    return out


def check_targets(layouts):
    """Every non-null target of a ResNet101 layout is a cpsd resnet101 key or a head key."""
    r101 = resnet101_keys()
    for lay in layouts:
        if "tresnet" in lay["name"]:
            continue
        seen = set()
        for key, shape, target in lay["keys"]:
            if target is None:
                continue
            assert target.startswith(("backbone.", "head.")), (lay["name"], key, target)
            if target.startswith("backbone."):
                assert r101.get(target[9:]) == shape, (lay["name"], key, target)
            assert target not in seen, (lay["name"], target)
            seen.add(target)
        backbone = {t[9:] for t in seen if t.startswith("backbone.")}
        lost = [k for k in r101 if k not in backbone and not k.endswith("num_batches_tracked")]
        assert not lost, (lay["name"], lost[:5])


def layouts(q2l_root, cpsd_root, q2l_commit, cpsd_commit):
    q = load_q2l(q2l_root)
    out = q2l_layouts(q, q2l_commit)
    clear_modules()
    einops_stub()
    c = load_cpsd(cpsd_root)
    out += cpsd_layouts(c, cpsd_commit)
    check_targets(out)
    return {
        "source": ("The authors' model constructors run on CPU (ImageNet weights not fetched: "
                   "same keys); keys in state_dict order, shapes for 80 classes (COCO) at 448. "
                   "Each key is [name in the file without wrapper prefix, shape, the cpsd "
                   "full-model key it lands on or null]; null_keys says why."),
        "cpsd_keys": ("cpsd full-model keys: 'backbone.' + the backbone's names (resnet101: "
                      "torchvision's conv1, bn1, layer1..layer4 with num_batches_tracked, no fc; "
                      "tresnet_l: body.conv1.conv/bn, body.layerN.K.convM.conv/bn, .se.fc1/fc2, "
                      ".downsample.K.conv/bn) and 'head.' + the head's names"),
        "loader": ("core/src/model.cpp load_pretrained: each name takes the first matching "
                   "pretrained_rename prefix, then names claimed by the head's "
                   "foreign_classifier_prefixes (query2label: 'fc.' -> 'fc.'), then 'backbone.' / "
                   "'head.' prefixes, the rest to the backbone"),
        "torch": torch.__version__,
        "layouts": out,
    }


# ----------------------------------------------------------------------------- output

def dump(o, level=0):
    """JSON with lists of scalars on one line and each key triple on its own line."""
    pad = " " * level
    if isinstance(o, dict) and o:
        items = [f"{pad} {json.dumps(k)}: {dump(v, level + 1)}" for k, v in o.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(o, list) and o and all(isinstance(e, (dict, list)) for e in o):
        items = [pad + " " + dump(e, level + 1) for e in o]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(o)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("what", choices=["heads", "layouts"])
    p.add_argument("q2l", help="SlongLiu/query2labels checkout or git dir")
    p.add_argument("cpsd", help="Robbie-Xu/CPSD checkout or git dir")
    a = p.parse_args()
    q2l_root, cpsd_root = checkout(a.q2l, Q2L_FILES), checkout(a.cpsd, CPSD_FILES)
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    run = heads if a.what == "heads" else layouts
    with contextlib.redirect_stdout(sys.stderr):  # the authors' code prints progress
        result = run(q2l_root, cpsd_root, commit_of(a.q2l), commit_of(a.cpsd))
    sys.stdout.write(dump(result) + "\n")


if __name__ == "__main__":
    main()
