// The EAL --lcores syntax a profile's eal.lcores is held to before the EAL
// starts: every form DPDK documents parses to the lcores it names, and every
// kind of mistake says what and where.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/tx/lcores.hpp"

namespace replicast::tx {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<unsigned> lcores_of(std::string_view text) {
    std::vector<unsigned> out;
    const std::string why = parse_lcores(text, out);
    EXPECT_EQ(why, "") << text;
    return out;
}

std::string error_of(std::string_view text) {
    std::vector<unsigned> out;
    return parse_lcores(text, out);
}

TEST(Lcores, EveryDocumentedFormNamesItsLcores) {
    EXPECT_THAT(lcores_of("0,1"), ElementsAre(0, 1));
    EXPECT_THAT(lcores_of("2,4,6"), ElementsAre(2, 4, 6));
    EXPECT_THAT(lcores_of("0-3"), ElementsAre(0, 1, 2, 3));
    EXPECT_THAT(lcores_of("0@0,1@1,2@0"), ElementsAre(0, 1, 2));
    EXPECT_THAT(lcores_of("(0,1)@(2-3),4"), ElementsAre(0, 1, 4));
    // The example of DPDK's EAL parameters guide.
    EXPECT_THAT(lcores_of("1,2@(5-7),(3-5)@(0,2),(0,6),7-8"), ElementsAre(1, 2, 3, 4, 5, 0, 6, 7, 8));
    EXPECT_THAT(lcores_of(" 0 , 1 @ 1 "), ElementsAre(0, 1));
    EXPECT_THAT(lcores_of("127@1023"), ElementsAre(127));
    // As the EAL takes them: ranges either way, repeats remapped, leading zeros.
    EXPECT_THAT(lcores_of("3-1"), ElementsAre(1, 2, 3));
    EXPECT_THAT(lcores_of("0,1,0@1"), ElementsAre(0, 1));
    EXPECT_THAT(lcores_of("(4-2)@(1-0)"), ElementsAre(2, 3, 4));
    EXPECT_THAT(lcores_of("000000001"), ElementsAre(1));
}

TEST(Lcores, MistakesSayWhatAndWhere) {
    EXPECT_EQ(error_of(""), "is empty");
    EXPECT_EQ(error_of("0,1x"), "expected ',' or '@' at position 4 of \"0,1x\"");
    EXPECT_EQ(error_of("0,,1"), "expected an lcore id at position 3 of \"0,,1\"");
    EXPECT_EQ(error_of("0-"), "expected an lcore id at position 3 of \"0-\"");
    EXPECT_EQ(error_of("0@"), "expected a CPU id at position 3 of \"0@\"");
    EXPECT_EQ(error_of("1-3@5"), "a range takes '@' only inside parentheses, as in (1-3)@5 at position 4 of \"1-3@5\"");
    EXPECT_EQ(error_of("0,128"), "lcore id 128 is above 127 at position 3 of \"0,128\"");
    EXPECT_EQ(error_of("0@1024"), "CPU id 1024 is above 1023 at position 3 of \"0@1024\"");
    EXPECT_EQ(error_of("(0,1"), "expected ')' at position 5 of \"(0,1\"");
    EXPECT_EQ(error_of("0,1,"), "expected an lcore id at position 5 of \"0,1,\"");
    EXPECT_THAT(error_of("0;1"), HasSubstr("expected ',' or '@' at position 2"));
    EXPECT_EQ(error_of("99999999999"), "lcore id 99999999999 is above 127 at position 1 of \"99999999999\"");
}

}  // namespace
}  // namespace replicast::tx
