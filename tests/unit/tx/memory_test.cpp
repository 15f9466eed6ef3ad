// The EAL's memory mode and the words the server and `bench tx` print about it.
#include <gtest/gtest.h>

#include "engine/tx/memory.hpp"

namespace replicast::tx {
namespace {

EalSettings settings(MemoryMode mode, std::uint32_t mb) {
    EalSettings e;
    e.memory = mode;
    e.memory_mb = mb;
    return e;
}

TEST(MemoryPlan, AutomaticTakesHugepagesOnlyWhenEnoughAreFree) {
    EXPECT_TRUE(plan_memory(settings(MemoryMode::automatic, 256), false, 1024).hugepages);
    EXPECT_TRUE(plan_memory(settings(MemoryMode::automatic, 256), false, 256).hugepages);
    const MemoryPlan few = plan_memory(settings(MemoryMode::automatic, 256), false, 128);
    EXPECT_FALSE(few.hugepages);
    EXPECT_EQ(few.why_not, "only 128 MiB of hugepages are free and the profile needs eal.memory_mb = 256");
    const MemoryPlan none = plan_memory(settings(MemoryMode::automatic, 256), false, 0);
    EXPECT_FALSE(none.hugepages);
    EXPECT_NE(none.why_not.find("no hugepages are free"), std::string::npos) << none.why_not;
}

TEST(MemoryPlan, TheProfileAndTheOperatorDecideOtherwise) {
    EXPECT_TRUE(plan_memory(settings(MemoryMode::in_memory, 256), false, 0).hugepages)
        << "in_memory asks for hugepages even when none look free (rte_eal_init then says why it fails)";
    const MemoryPlan profile = plan_memory(settings(MemoryMode::no_huge, 256), false, 4096);
    EXPECT_FALSE(profile.hugepages);
    EXPECT_EQ(profile.why_not, "the profile sets eal.memory = \"no-huge\"");
    for (MemoryMode m : {MemoryMode::automatic, MemoryMode::in_memory, MemoryMode::no_huge}) {
        const MemoryPlan forced = plan_memory(settings(m, 256), true, 4096);
        EXPECT_FALSE(forced.hugepages);
        EXPECT_EQ(forced.why_not, "--no-huge was given");
    }
}

TEST(MemoryDescription, SmallPagesSayWhyWhatItCostsAndTheFix) {
    const std::string s = describe({.megabytes = 256, .page_size = 4096, .base_page_size = 4096,
                                    .hugetlbfs_mounted = false, .why_not = "--no-huge was given"});
    EXPECT_NE(s.find("256 MiB on ordinary 4 KiB pages, NOT hugepages (--no-huge was given)"), std::string::npos) << s;
    EXPECT_NE(s.find("TLB"), std::string::npos) << s;
    EXPECT_NE(s.find("only virtual ports"), std::string::npos) << s;
    EXPECT_NE(s.find("scripts/setup --huge-only"), std::string::npos) << s;
}

TEST(MemoryDescription, HugepagesWithoutAMountAreStillHugepages) {
    const EalMemory m{.megabytes = 256, .page_size = 2 << 20, .base_page_size = 4096, .hugetlbfs_mounted = false,
                      .why_not = {}};
    EXPECT_TRUE(m.hugepages());
    const std::string s = describe(m);
    EXPECT_NE(s.find("256 MiB on 2048 KiB hugepages (mapped anonymously"), std::string::npos) << s;
    EXPECT_EQ(s.find("NOT"), std::string::npos) << s;
    EXPECT_EQ(describe({.megabytes = 256, .page_size = 1 << 30, .base_page_size = 4096, .hugetlbfs_mounted = true,
                        .why_not = {}}),
              "EAL memory: 256 MiB on 1048576 KiB hugepages");
}

TEST(Hugetlbfs, FoundByItsFilesystemTypeNotItsPath) {
    EXPECT_TRUE(hugetlbfs_in("proc /proc proc rw 0 0\nnodev /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n"));
    EXPECT_TRUE(hugetlbfs_in("hugetlbfs /mnt/huge hugetlbfs rw 0 0"));
    EXPECT_FALSE(hugetlbfs_in("tmpfs /dev/hugepages tmpfs rw 0 0\nproc /proc proc rw 0 0\n"));
    EXPECT_FALSE(hugetlbfs_in("hugetlbfs /hugetlbfs ext4 rw 0 0\n"));
    EXPECT_FALSE(hugetlbfs_in(""));
}

}  // namespace
}  // namespace replicast::tx
