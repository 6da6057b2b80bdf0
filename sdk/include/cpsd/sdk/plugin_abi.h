/* SPDX-License-Identifier: Apache-2.0 */
/* The C handshake between the cpsd host and a plugin file. */
#ifndef CPSD_SDK_PLUGIN_ABI_H_
#define CPSD_SDK_PLUGIN_ABI_H_

#include <stdint.h>

/*
 * Versioning rules
 * ----------------
 * CPSD_PLUGIN_ABI_MAJOR changes when anything a compiled plugin relies on changes shape:
 * a field of these structs is moved, removed or retyped, a virtual function of an SDK
 * interface (Backbone, Head, Loss, Decomposer) is added, removed or reordered, or a
 * create-argument struct (BackboneArgs, ...) or a type passed to an interface's functions
 * (LossInput, TeacherLogits, ...) changes. The entry symbol carries the major number in its
 * name, so a host never calls an entry of another major.
 *
 * History: 2 added TeacherLogits::weights (per-class distillation weights) and the Head
 * virtuals foreign_classifier_prefixes() and class_activation_weights().
 *
 * CPSD_PLUGIN_API_MINOR grows when fields are appended at the end of a struct below.
 * Every struct starts with its own size: a reader treats fields past that size as absent,
 * so old plugins work with new hosts and the other way round (both sides work at the
 * smaller minor).
 */
#define CPSD_PLUGIN_ABI_MAJOR 2
#define CPSD_PLUGIN_API_MINOR 0
#define CPSD_PLUGIN_ENTRY_SYMBOL "cpsd_plugin_entry_v2"
/* Prefix shared by the entry symbols of every ABI major; used to explain mismatches. */
#define CPSD_PLUGIN_ENTRY_PREFIX "cpsd_plugin_entry_v"

#ifdef __cplusplus
extern "C" {
#endif

/* What a factory record builds. */
typedef enum cpsd_kind {
  CPSD_KIND_BACKBONE = 1,
  CPSD_KIND_HEAD = 2,
  CPSD_KIND_LOSS = 3,
  CPSD_KIND_DECOMPOSER = 4
} cpsd_kind;

/* Error classes reported by create(); they decide the host's exit code. */
typedef enum cpsd_error_code {
  CPSD_OK = 0,
  CPSD_ERROR_CONFIG = 1, /* bad options: the user can fix the config (exit 2) */
  CPSD_ERROR_RUNTIME = 2 /* anything else (exit 1) */
} cpsd_error_code;

/* Filled by create() when it returns null. message is NUL-terminated. */
typedef struct cpsd_error {
  int32_t code;
  char message[2048];
} cpsd_error;

/* How the plugin was built; the host refuses a plugin whose LibTorch major.minor or
 * _GLIBCXX_USE_CXX11_ABI differ from its own, and warns on a different compiler. */
typedef struct cpsd_build_fingerprint {
  int32_t torch_major;
  int32_t torch_minor;
  int32_t torch_patch;
  int32_t cxx11_abi;    /* value of _GLIBCXX_USE_CXX11_ABI, -1 if not libstdc++ */
  int32_t cuda;         /* 1 if built against a CUDA LibTorch */
  const char* compiler; /* e.g. "gcc 12.2.0" */
} cpsd_build_fingerprint;

/* One constructible implementation, e.g. kind BACKBONE, name "resnet101".
 *
 * create: args points to the C++ argument struct of the record's kind
 *   (cpsd::BackboneArgs, cpsd::HeadArgs, cpsd::LossArgs, cpsd::DecomposerArgs).
 *   Returns the new object as a pointer to its *interface* type (cpsd::Backbone*, ...),
 *   converted to void*, or null with *error filled. Never throws.
 * destroy: deletes an object returned by create, inside the plugin. Never throws. */
typedef struct cpsd_factory_record {
  uint32_t struct_size;
  int32_t kind;
  const char* name;
  const char* summary;       /* one line */
  const char* defaults_toml; /* every option with its default, commented */
  void* (*create)(const void* args, cpsd_error* error);
  void (*destroy)(void* object);
} cpsd_factory_record;

/* A renamed implementation: configs that still say old_name get new_name and a warning. */
typedef struct cpsd_alias {
  int32_t kind;
  const char* old_name;
  const char* new_name;
} cpsd_alias;

/* Log levels shared by host and plugins (spdlog's numbering). */
typedef enum cpsd_log_level {
  CPSD_LOG_TRACE = 0,
  CPSD_LOG_DEBUG = 1,
  CPSD_LOG_INFO = 2,
  CPSD_LOG_WARN = 3,
  CPSD_LOG_ERROR = 4
} cpsd_log_level;

/* What the host offers plugins. Owned by the host; valid until process exit. */
typedef struct cpsd_host_services {
  uint32_t struct_size;
  uint32_t api_minor;
  void* context;
  /* Writes one message through the host's logger named `logger` (the plugin's name). */
  void (*log)(void* context, int32_t level, const char* logger, const char* message);
  /* Current minimum level; messages below it may be skipped before formatting. */
  int32_t (*log_level)(void* context);
} cpsd_host_services;

/* Static description of a plugin file; owned by the plugin, valid while it is loaded. */
typedef struct cpsd_plugin_descriptor {
  uint32_t struct_size;
  uint32_t abi_major;
  uint32_t api_minor;
  const char* plugin_name;
  const char* plugin_version;
  const char* sdk_version;
  cpsd_build_fingerprint fingerprint;
  uint32_t num_factories;
  const cpsd_factory_record* factories;
  uint32_t num_aliases;
  const cpsd_alias* aliases;
  /* Optional (may be null): called once before the host exits, while LibTorch is alive. */
  void (*shutdown)(void);
} cpsd_plugin_descriptor;

/* The one exported symbol of a plugin file (named by CPSD_PLUGIN_ENTRY_SYMBOL).
 * Returns the plugin's descriptor, or null if it cannot serve the host's ABI major. */
typedef const cpsd_plugin_descriptor* (*cpsd_plugin_entry_fn)(uint32_t host_abi_major,
                                                              uint32_t host_api_minor,
                                                              const cpsd_host_services* host);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CPSD_SDK_PLUGIN_ABI_H_ */
