// SPDX-License-Identifier: Apache-2.0
// Pins the layout of the plugin ABI 2.0 C structs (x86-64 / LP64; unchanged since 1.0, 2.0
// changed C++ interface types). A change here breaks every compiled plugin: bump
// CPSD_PLUGIN_ABI_MAJOR (see plugin_abi.h) and update the table.
#include <cstddef>

#include <gtest/gtest.h>

#include "cpsd/sdk/plugin_abi.h"

static_assert(CPSD_PLUGIN_ABI_MAJOR == 2, "new ABI major: add its layout table below");

static_assert(sizeof(void*) == 8, "layouts below are for LP64 targets");

static_assert(sizeof(cpsd_error) == 2052);
static_assert(offsetof(cpsd_error, message) == 4);

static_assert(sizeof(cpsd_build_fingerprint) == 32);
static_assert(offsetof(cpsd_build_fingerprint, torch_major) == 0);
static_assert(offsetof(cpsd_build_fingerprint, cxx11_abi) == 12);
static_assert(offsetof(cpsd_build_fingerprint, cuda) == 16);
static_assert(offsetof(cpsd_build_fingerprint, compiler) == 24);

static_assert(sizeof(cpsd_factory_record) == 48);
static_assert(offsetof(cpsd_factory_record, kind) == 4);
static_assert(offsetof(cpsd_factory_record, name) == 8);
static_assert(offsetof(cpsd_factory_record, summary) == 16);
static_assert(offsetof(cpsd_factory_record, defaults_toml) == 24);
static_assert(offsetof(cpsd_factory_record, create) == 32);
static_assert(offsetof(cpsd_factory_record, destroy) == 40);

static_assert(sizeof(cpsd_alias) == 24);

static_assert(sizeof(cpsd_host_services) == 32);
static_assert(offsetof(cpsd_host_services, context) == 8);
static_assert(offsetof(cpsd_host_services, log) == 16);
static_assert(offsetof(cpsd_host_services, log_level) == 24);

static_assert(sizeof(cpsd_plugin_descriptor) == 112);
static_assert(offsetof(cpsd_plugin_descriptor, abi_major) == 4);
static_assert(offsetof(cpsd_plugin_descriptor, api_minor) == 8);
static_assert(offsetof(cpsd_plugin_descriptor, plugin_name) == 16);
static_assert(offsetof(cpsd_plugin_descriptor, plugin_version) == 24);
static_assert(offsetof(cpsd_plugin_descriptor, sdk_version) == 32);
static_assert(offsetof(cpsd_plugin_descriptor, fingerprint) == 40);
static_assert(offsetof(cpsd_plugin_descriptor, num_factories) == 72);
static_assert(offsetof(cpsd_plugin_descriptor, factories) == 80);
static_assert(offsetof(cpsd_plugin_descriptor, num_aliases) == 88);
static_assert(offsetof(cpsd_plugin_descriptor, aliases) == 96);
static_assert(offsetof(cpsd_plugin_descriptor, shutdown) == 104);

TEST(AbiLayout, EntrySymbolCarriesTheMajor) {
  EXPECT_STREQ(CPSD_PLUGIN_ENTRY_SYMBOL, "cpsd_plugin_entry_v2");
  EXPECT_EQ(std::string(CPSD_PLUGIN_ENTRY_SYMBOL).rfind(CPSD_PLUGIN_ENTRY_PREFIX, 0), 0u);
}
