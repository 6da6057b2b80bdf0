// SPDX-License-Identifier: Apache-2.0
// The host's own config sections: every key with its default and meaning.
#include "host_schema.h"

#include "cpsd/core/run_config.h"

namespace cpsd {

namespace {

// Also the schema: a run config may only set these keys, with these types.
constexpr std::string_view kHostDefaults = R"(# Host settings of a cpsd run.
# Example: cpsd config show configs/examples/hello.toml --set runtime.threads=2

[runtime]
threads = 0          # LibTorch CPU threads; 0 = all cores of the machine
seed = 0             # one seed for partitions, shuffling, augmentation and initialisation
log_level = "info"   # trace | debug | info | warn | error | off
device = "cpu"       # cpu | cuda | cuda:N | auto (cuda:<local rank> when there is one, else cpu)
amp = "off"          # mixed precision on CUDA: off | bf16 | fp16 (fp16 with a dynamic loss scale)
channels_last = false  # NHWC memory format for convolutions (CUDA, and CPU through oneDNN)
dist_timeout = 300   # seconds a multi-process job waits for a peer before failing
find_unused_parameters = false  # data parallel: find parameters that get no gradient (slower)

[model]
backbone = ""        # backbone registry name (`cpsd plugins list`); options in [backbone.<name>]
head = ""            # head registry name; options in [head.<name>]
num_classes = 0      # label count when no dataset gives it (model info, predict --weights); 0 = from data
input_size = 224     # square input side in pixels
pretrained = ""      # weights for the backbone (and the classifier when it fits): .pth, .safetensors or a cpsd checkpoint
pretrained_entry = ""  # member of a checkpoint dict holding the weights ("" = state_dict_ema, model_ema, state_dict or model)
pretrained_rename = []  # "from=>to" name-prefix renames applied first, e.g. ["features.0.=>backbone.conv1."]
pretrained_layout = "auto"  # whose names the file has: auto (from its keys) | q2l | cpsd-authors | cpsd | ml-decoder | inplace-abn | timm | torchvision | as-is
pretrained_parts = "all"  # all: the backbone whole, and the head whole when the file has it | backbone: the file's head weights are left out | matching: whatever fits (warns)

[train]
loss = ""            # classification loss registry name; options in [loss.<name>]
epochs = 10
batch_size = 32
optimizer = "adam"   # adam (L2 weight decay added to the gradient, the reference) | adamw (decoupled)
lr = 1e-4            # peak learning rate
weight_decay = 1e-4  # not applied to biases and other 1-D parameters (the reference)
schedule = "onecycle"  # onecycle (the reference) | constant
pct_start = 0.1      # one-cycle: share of steps rising to lr
div_factor = 25.0    # one-cycle: first lr = lr / div_factor
final_div_factor = 1e4  # one-cycle: last lr = first lr / final_div_factor
cycle_momentum = true   # one-cycle: Adam's beta1 goes max -> base -> max
base_momentum = 0.85
max_momentum = 0.95
ema = 0.9997         # decay of the weight EMA evaluated beside the model (0 = off)
grad_clip = 0.0      # clip the gradient norm to this (0 = off)
threshold = 0.5      # sigmoid threshold of CP/CR/CF1/OP/OR/OF1 (the reference's validate.py: 0.8)
log_seconds = 10.0   # progress line interval when not on a terminal
checkpoint_minutes = 5.0  # also write last.ckpt inside an epoch this often, so a killed run resumes at its next step (0 = at epoch ends only)
checkpoint_steps = 0      # ... and/or every this many steps (0 = off)
val_begin = 1        # validate (model and EMA) from this epoch on, 1-based; the best checkpoint is the best validated epoch
val_interval = 1     # ... every this many epochs from val_begin; the last epoch is always validated

[teachers]
epochs = 0           # 0 = train.epochs (the paper: 20 for teachers, 80 for the student)
lr = 0.0             # 0 = train.lr
images = "all"       # all: every image, all-negative outside the sub-task (the reference code) | positive: only images with a positive in the sub-task (the paper's wording)
patience = 0         # early stopping: a teacher stops once its validation mAP has not improved for this many epochs, keeping its best epoch; epochs is then the cap (0 = off)
init = "pretrained"  # pretrained: start as the baseline did (model.pretrained) | baseline: fine-tune the trained baseline (its best weights, the classifier rows of the sub-task's classes)

[distill]
loss = ""            # distillation loss registry name; options in [loss.<name>]
cls_weight = 0.5     # weight of the classification loss; the distillation loss carries its own weights
epochs = 0           # 0 = train.epochs
lr = 0.0             # 0 = train.lr (the reference uses 1e-5 for the student)
mode = "online"      # online: teachers run on each augmented batch | cached: logits on un-augmented images, computed once
teacher_mode = "eval"  # eval (the paper) | train (what the reference code does: batch statistics, dropout on)
weighting = "none"   # none (the paper) | class | teacher: weigh each class's distillation by how much its teacher beats the baseline on the held-out training images (data.holdout), per class or per teacher
weight_scale = 2.0   # with weighting: a gain of this many AP points (or more) teaches fully, none or less not at all, linear between

[run]
name = "run"         # run directory name under output
output = "runs"      # relative to the working directory
methods = []         # the [methods] to run, in this order ([] = all of them)

# A method is the list of branches its student learns from (none: the baseline); a branch
# is a decomposition of the label set, each group a teacher's sub-task. The paper's six
# methods: configs/_base_/methods/paper.toml, which says how to write your own.
[methods]

[branches]

[data]
format = "coco"        # coco | nuswide | voc | csv | folder (DIR/<class>/<image>, single-label)
root = ""              # directory the paths below are relative to ("" = this config file's)
classes = ""           # class list file, one name per line (csv: required; nuswide: optional)
class_order = "id"     # coco: "id" (category id: ASL, Q2L) | "name" (alphabetical: ML-GCN, CPSD)
keep_empty = true      # coco: keep images without annotations as all-negative (false = drop them)
difficult = "ignore"   # voc label 0: "ignore" (masked out of loss and metrics) | "positive" | "negative"
on_bad_image = "fail"  # missing or corrupt image: "fail" (naming it) | "skip" (and count)
max_bad_images = 100   # with "skip": fail once more than this many were skipped
image_size = 224       # square input side in pixels
resize = "squash"      # squash (stretch, the reference) | pad (keep the aspect, pad with black)
normalize = "none"     # none (pixels / 255, the reference) | imagenet (mean/std)
fast_decode = true     # let JPEG decoding shrink 2/4/8x when the image stays >= image_size
workers = 0            # decoding threads; 0 = all cores
prefetch = 4           # batches decoded ahead
holdout = 0.0          # share of the training images no model trains on, drawn with runtime.seed: teachers and baseline are compared there (distill.weighting); never the validation split

[data.train]
annotations = ""       # coco: instances JSON; csv: the CSV; nuswide: dataset root or one CSV; voc: VOC year dir; folder: the class directories' parent
images = ""            # image directory (voc default: <annotations>/JPEGImages)
split = "Train"        # nuswide: Train | Test; voc: train | val | trainval | test

[data.val]
annotations = ""
images = ""
split = "Test"

[augment]
flip = false           # random horizontal flip (p = 0.5); not in the reference recipe
cutout = 0.5           # reference CutoutPIL box size factor (0 = off)
randaugment = true     # reference RandAugment: 2 of 15 ops, magnitude 1..9, each with p = 0.5

[pretrain]
output = ""          # cpsd pretrain: backbone weights file to write (relative to this file); a cache, rebuilt when the settings change

[partition]
decomposer = ""      # decomposer registry name for `cpsd partition`; options in [decomposer.<name>]
k = 5                # number of sub-tasks (groups of labels) of a branch that does not set its own
statistics = ""      # label statistics JSON (relative to this file); "" = count them on [data.train]
)";

}  // namespace

std::string_view host_defaults_toml() { return kHostDefaults; }

const std::vector<Selector>& selectors() {
  static const std::vector<Selector> s = {
      {Kind::backbone, "model", "backbone"},
      {Kind::head, "model", "head"},
      {Kind::loss, "train", "loss"},
      {Kind::loss, "distill", "loss"},
      {Kind::decomposer, "partition", "decomposer"},
  };
  return s;
}

const std::vector<PathKey>& path_keys() {
  static const std::vector<PathKey> keys = {
      {"model.pretrained", false},
      {"pretrain.output", false},
      {"data.root", false},
      {"data.classes", true},
      {"data.train.annotations", true},
      {"data.train.images", true},
      {"data.val.annotations", true},
      {"data.val.images", true},
      {"partition.statistics", false},
  };
  return keys;
}

}  // namespace cpsd
