// SPDX-License-Identifier: Apache-2.0
// Readers of the dataset formats users arrive with. Each returns a Dataset; errors are
// ConfigErrors naming the file (and line where there is one).
#pragma once

#include <filesystem>
#include <string>

#include "cpsd/core/data/dataset.h"
#include "cpsd/core/export.h"

namespace cpsd::data {

namespace fs = std::filesystem;

/// COCO instances JSON (2014 and 2017): `images`, `annotations[].category_id`, `categories`.
struct CocoOptions {
  bool order_by_name =
      false;               ///< false: category id order (ASL/Q2L); true: alphabetical (ML-GCN/CPSD)
  bool keep_empty = true;  ///< keep images without annotations as all-negative samples
};
CPSD_CORE_API Dataset read_coco(const fs::path& annotations, const fs::path& images,
                                const CocoOptions& options);

/// NUS-WIDE. Either the official layout under `root` (Concepts81.txt,
/// ImageList/<Split>Imagelist.txt, Groundtruth/TrainTestLabels/Labels_<concept>_<Split>.txt)
/// with images under `images`, or, when `root` is a .csv file, the one-CSV form: a header,
/// then `path,labels` with label names separated by ';', '|' or written as a Python list.
/// Images without any of the 81 labels are dropped, as everyone does for NUS-WIDE.
CPSD_CORE_API Dataset read_nuswide(const fs::path& root, const fs::path& images,
                                   const std::string& split, const fs::path& classes_file);

/// PASCAL VOC: `voc_root`/ImageSets/Main/<class>_<split>.txt with 1 / -1 / 0 (difficult),
/// images in `images` (default voc_root/JPEGImages). Classes are the files found, sorted.
enum class Difficult { ignore, positive, negative };
CPSD_CORE_API Dataset read_voc(const fs::path& voc_root, const fs::path& images,
                               const std::string& split, Difficult difficult);

/// Generic CSV: a header line, then `image,labels` rows with ';'-separated class names
/// (an empty field = no label); `classes_file` lists one class per line, in output order.
/// Image paths are relative to `images`.
CPSD_CORE_API Dataset read_label_csv(const fs::path& csv, const fs::path& images,
                                     const fs::path& classes_file);

/// The ImageNet layout: `dir`/<class>/<image> (any depth below the class directory), one
/// label per image. Classes are the sub-directories sorted by name (torchvision's
/// ImageFolder order) or, with `classes_file`, the ones it lists in its order.
CPSD_CORE_API Dataset read_image_folder(const fs::path& dir, const fs::path& classes_file = {});

/// Reads a class list file: one name per line, blank lines and '#' comments skipped.
CPSD_CORE_API std::vector<std::string> read_class_list(const fs::path& file);

}  // namespace cpsd::data
