/*  test_exact.c: unit tests for lib/exact.h, exact squares and their sums.

    Every expected decimal string below was computed independently with
    Python's big integers and pasted in as a literal; the library is never
    used to produce its own expected values. Where a literal cannot cover a
    case (thousands of ranges), the closed form is checked against a plain
    loop over dv_square, and the formatters against a digit-at-a-time
    reference printer written here.
*/
#include "exact.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

//  Decimal literals (Python: str (2**128 - 1) and so on).
#define S_TWO_POW_63_SQUARED "85070591730234615865843651857942052864"
#define S_INT64_MAX_SQUARED  "85070591730234615847396907784232501249"
#define S_UINT64_MAX_TEXT    "18446744073709551615"
#define S_TWO_POW_64_TEXT    "18446744073709551616"
#define S_UINT128_MAX_TEXT   "340282366920938463463374607431768211455"
#define S_TWO_POW_128_TEXT   "340282366920938463463374607431768211456"
#define S_TWO_POW_192_TEXT   "6277101735386680763835789423207666416102355444464034512896"
#define S_UINT256_MAX_TEXT                                                               \
    "115792089237316195423570985008687907853269984665640564039457584007913129639935"

#define S_TEN_POW_19 10000000000000000000ULL

//  xorshift64*: a fixed, portable sequence so that every run tests the same
//  values.
static uint64_t
s_random (uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 2685821657736338717ULL;
}

//  A random value with a random number of significant bits, so that small,
//  medium and huge values are all common.
static uint64_t
s_random_sized (uint64_t *state)
{
    unsigned bits = (unsigned) (s_random (state) % 65);
    uint64_t value = s_random (state);
    return bits == 64 ? value : value & ((UINT64_C (1) << bits) - 1);
}

static dv_u256_t
s_u256 (uint64_t limb0, uint64_t limb1, uint64_t limb2, uint64_t limb3)
{
    dv_u256_t value = {{limb0, limb1, limb2, limb3}};
    return value;
}

static dv_u128_t
s_u128 (uint64_t high, uint64_t low)
{
    return (dv_u128_t) high << 64 | low;
}

//  Reference printer: one decimal digit per long division of all four limbs
//  by 10. Slow and obviously right; shares no code with the library's
//  19-digit chunking.
static void
s_reference_u256_text (dv_u256_t value, char *text)
{
    char digits[DV_U256_TEXT_MAX + 1];
    size_t length = 0;
    do {
        unsigned remainder = 0;
        for (int limb = 3; limb >= 0; limb--) {
            dv_u128_t current = (dv_u128_t) remainder << 64 | value.limb[limb];
            value.limb[limb] = (uint64_t) (current / 10);
            remainder = (unsigned) (current % 10);
        }
        digits[length++] = (char) ('0' + remainder);
    } while (value.limb[0] | value.limb[1] | value.limb[2] | value.limb[3]);
    for (size_t index = 0; index < length; index++)
        text[index] = digits[length - 1 - index];
    text[length] = '\0';
}

//  Checks every formatter's text and returned length against expected.
static void
s_check_u256_text (dv_u256_t value, const char *expected)
{
    char text[DV_U256_TEXT_MAX + 1];
    size_t length = dv_u256_format (&value, text);
    assert_string_equal (text, expected);
    assert_int_equal (length, strlen (expected));
}

static void
s_check_u128_text (dv_u128_t value, const char *expected)
{
    char text[DV_U128_TEXT_MAX + 1];
    size_t length = dv_u128_format (value, text);
    assert_string_equal (text, expected);
    assert_int_equal (length, strlen (expected));
    //  The same number, widened, prints the same through the 256-bit path.
    s_check_u256_text (s_u256 ((uint64_t) value, (uint64_t) (value >> 64), 0, 0),
                       expected);
}

static void
s_check_u64_text (uint64_t value, const char *expected)
{
    char text[DV_I64_TEXT_MAX + 1];
    size_t length = dv_u64_format (value, text);
    assert_string_equal (text, expected);
    assert_int_equal (length, strlen (expected));
    s_check_u128_text (value, expected);
}

static void
s_check_i64_text (int64_t value, const char *expected)
{
    char text[DV_I64_TEXT_MAX + 1];
    size_t length = dv_i64_format (value, text);
    assert_string_equal (text, expected);
    assert_int_equal (length, strlen (expected));
}

static void
s_check_square (int64_t value, const char *expected)
{
    s_check_u128_text (dv_square (value), expected);
}

//  The sum of squares of count values from start by brute force: dv_square
//  added one at a time. The caller keeps the range inside int64.
static dv_u256_t
s_brute_sum_of_squares (int64_t start, uint64_t count)
{
    dv_u256_t sum = s_u256 (0, 0, 0, 0);
    for (uint64_t index = 0; index < count; index++)
        dv_u256_add_u128 (&sum, dv_square ((int64_t) ((uint64_t) start + index)));
    return sum;
}

static void
s_check_range_against_loop (int64_t start, uint64_t count)
{
    dv_u256_t expected = s_brute_sum_of_squares (start, count);
    dv_u256_t actual = dv_range_sum_of_squares (start, count);
    if (!dv_u256_equal (&actual, &expected)) {
        char expected_text[DV_U256_TEXT_MAX + 1];
        char actual_text[DV_U256_TEXT_MAX + 1];
        s_reference_u256_text (expected, expected_text);
        s_reference_u256_text (actual, actual_text);
        fail_msg ("range start %" PRId64 " count %" PRIu64 ": closed form %s, loop %s",
                  start, count, actual_text, expected_text);
    }
}

static void
s_check_range_text (int64_t start, uint64_t count, const char *expected)
{
    char text[DV_U256_TEXT_MAX + 1];
    dv_u256_t sum = dv_range_sum_of_squares (start, count);
    dv_u256_format (&sum, text);
    if (strcmp (text, expected))
        fail_msg ("range start %" PRId64 " count %" PRIu64 ": got %s, expected %s", start,
                  count, text, expected);
}

static void
test_square_literals (void **state)
{
    (void) state;
    s_check_square (0, "0");
    s_check_square (1, "1");
    s_check_square (-1, "1");
    s_check_square (2, "4");
    s_check_square (-3, "9");
    s_check_square (1000000, "1000000000000");
    //  The largest square below 2^63 and the first above it.
    s_check_square (3037000499, "9223372030926249001");
    s_check_square (-3037000500, "9223372037000250000");
    //  Around 2^32: the square crosses into the high 64 bits at 2^64.
    s_check_square (4294967295, "18446744065119617025");
    s_check_square (4294967296, S_TWO_POW_64_TEXT);
    s_check_square (-4294967296, S_TWO_POW_64_TEXT);
    s_check_square (4294967297, "18446744082299486209");
    s_check_square (INT64_MAX, S_INT64_MAX_SQUARED);
    s_check_square (-INT64_MAX, S_INT64_MAX_SQUARED);
    s_check_square (INT64_MIN, S_TWO_POW_63_SQUARED);
    s_check_square (INT64_MIN + 1, S_INT64_MAX_SQUARED);
}

//  (v + 1)^2 - v^2 = 2v + 1 and (-v)^2 = v^2, for values across the range.
static void
test_square_identities (void **state)
{
    (void) state;
    uint64_t random_state = 0x5eed5eed5eed5eedULL;
    for (int round = 0; round < 100000; round++) {
        int64_t value = (int64_t) s_random_sized (&random_state);
        if (round % 2)
            value = -value;
        if (value == INT64_MAX || value == INT64_MIN)
            continue;
        assert_true (dv_square (-value) == dv_square (value));
        dv_u128_t step = dv_square (value + 1) - dv_square (value);
        assert_true (step == (dv_u128_t) (2 * (__int128) value + 1));
    }
}

static void
test_format_u64_and_i64 (void **state)
{
    (void) state;
    s_check_u64_text (0, "0");
    s_check_u64_text (1, "1");
    s_check_u64_text (9, "9");
    s_check_u64_text (10, "10");
    s_check_u64_text (1000000, "1000000");
    s_check_u64_text (S_TEN_POW_19 - 1, "9999999999999999999");
    s_check_u64_text (S_TEN_POW_19, "10000000000000000000");
    s_check_u64_text (S_TEN_POW_19 + 1, "10000000000000000001");
    s_check_u64_text (UINT64_MAX, S_UINT64_MAX_TEXT);

    s_check_i64_text (0, "0");
    s_check_i64_text (1, "1");
    s_check_i64_text (-1, "-1");
    s_check_i64_text (-10, "-10");
    s_check_i64_text (INT64_MAX, "9223372036854775807");
    s_check_i64_text (INT64_MIN, "-9223372036854775808");
    s_check_i64_text (INT64_MIN + 1, "-9223372036854775807");

    //  The longest texts are exactly _TEXT_MAX long.
    char text[DV_I64_TEXT_MAX + 1];
    assert_int_equal (dv_i64_format (INT64_MIN, text), DV_I64_TEXT_MAX);
    assert_int_equal (dv_u64_format (UINT64_MAX, text), DV_I64_TEXT_MAX);

    //  Against printf for many values.
    uint64_t random_state = 0x0123456789abcdefULL;
    for (int round = 0; round < 20000; round++) {
        uint64_t value = s_random_sized (&random_state);
        char expected[32];
        snprintf (expected, sizeof expected, "%" PRIu64, value);
        s_check_u64_text (value, expected);
        snprintf (expected, sizeof expected, "%" PRId64, (int64_t) value);
        s_check_i64_text ((int64_t) value, expected);
    }
}

static void
test_format_u128 (void **state)
{
    (void) state;
    const dv_u128_t ten_pow_19 = S_TEN_POW_19;
    s_check_u128_text (0, "0");
    s_check_u128_text (ten_pow_19 - 1, "9999999999999999999");
    s_check_u128_text (ten_pow_19, "10000000000000000000");
    s_check_u128_text (ten_pow_19 * 10, "100000000000000000000");
    //  A 19-digit chunk that is zero, or small, must still print 19 digits.
    s_check_u128_text (ten_pow_19 * 7 + 5, "70000000000000000005");
    s_check_u128_text (ten_pow_19 * ten_pow_19 - 1,
                       "99999999999999999999999999999999999999");
    s_check_u128_text (ten_pow_19 * ten_pow_19,
                       "100000000000000000000000000000000000000");
    s_check_u128_text (ten_pow_19 * ten_pow_19 + 1,
                       "100000000000000000000000000000000000001");
    s_check_u128_text (ten_pow_19 * ten_pow_19 * 3,
                       "300000000000000000000000000000000000000");
    s_check_u128_text (s_u128 (1, 0), S_TWO_POW_64_TEXT);
    s_check_u128_text (s_u128 (0, UINT64_MAX), S_UINT64_MAX_TEXT);
    s_check_u128_text (s_u128 (UINT64_MAX, UINT64_MAX), S_UINT128_MAX_TEXT);

    char text[DV_U128_TEXT_MAX + 1];
    assert_int_equal (dv_u128_format (s_u128 (UINT64_MAX, UINT64_MAX), text),
                      DV_U128_TEXT_MAX);

    uint64_t random_state = 0xfeedfacecafebeefULL;
    for (int round = 0; round < 20000; round++) {
        dv_u128_t value =
            s_u128 (s_random_sized (&random_state), s_random_sized (&random_state));
        char expected[DV_U256_TEXT_MAX + 1];
        s_reference_u256_text (s_u256 ((uint64_t) value, (uint64_t) (value >> 64), 0, 0),
                               expected);
        s_check_u128_text (value, expected);
    }
}

//  The two-digits-at-a-time path: every digit-count boundary (10^k - 1 and
//  10^k, where the count changes), against snprintf, and the squares the
//  sink prints, of the edge values and of values around 2^32 (where a
//  square leaves 64 bits), against the reference printer.
static void
test_format_boundaries_and_squares (void **state)
{
    (void) state;
    char expected[DV_U256_TEXT_MAX + 1];
    uint64_t power = 1;
    for (int digits = 1; digits <= 20; digits++) {
        uint64_t around[] = {power - 1, power, power + 1, power * 5 + 3};
        for (size_t i = 0; i < sizeof around / sizeof around[0]; i++) {
            if (digits == 20 && i == 3)
                continue; //  5 x 10^19 is past 2^64
            snprintf (expected, sizeof expected, "%" PRIu64, around[i]);
            s_check_u64_text (around[i], expected);
            snprintf (expected, sizeof expected, "%" PRId64, -(int64_t) (around[i] >> 1));
            s_check_i64_text (-(int64_t) (around[i] >> 1), expected);
            snprintf (expected, sizeof expected, "%" PRIu64, around[i]);
            s_check_u128_text (around[i], expected);
        }
        if (digits < 20)
            power *= 10;
    }
    const int64_t edges[] = {INT64_MIN,
                             INT64_MIN + 1,
                             -4294967296LL,
                             -4294967295LL,
                             -1,
                             0,
                             1,
                             4294967295LL,
                             4294967296LL,
                             3037000499LL,
                             3037000500LL,
                             INT64_MAX - 1,
                             INT64_MAX};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        dv_u128_t square = dv_square (edges[i]);
        s_reference_u256_text (
            s_u256 ((uint64_t) square, (uint64_t) (square >> 64), 0, 0), expected);
        s_check_u128_text (square, expected);
    }
    s_check_u128_text (dv_square (INT64_MIN), "85070591730234615865843651857942052864");
    s_check_u128_text (dv_square (INT64_MAX), "85070591730234615847396907784232501249");
    uint64_t random_state = 0x5eed5eed5eed5eedULL;
    for (int round = 0; round < 20000; round++) {
        dv_u128_t square = dv_square ((int64_t) s_random_sized (&random_state));
        s_reference_u256_text (
            s_u256 ((uint64_t) square, (uint64_t) (square >> 64), 0, 0), expected);
        s_check_u128_text (square, expected);
    }
}

static void
test_format_u256 (void **state)
{
    (void) state;
    s_check_u256_text (s_u256 (0, 0, 0, 0), "0");
    s_check_u256_text (s_u256 (1, 0, 0, 0), "1");
    s_check_u256_text (s_u256 (S_TEN_POW_19, 0, 0, 0), "10000000000000000000");
    s_check_u256_text (s_u256 (0, 1, 0, 0), S_TWO_POW_64_TEXT);
    s_check_u256_text (s_u256 (0, 0, 1, 0), S_TWO_POW_128_TEXT);
    s_check_u256_text (s_u256 (0, 0, 0, 1), S_TWO_POW_192_TEXT);
    s_check_u256_text (s_u256 (UINT64_MAX, UINT64_MAX, UINT64_MAX, 0),
                       "6277101735386680763835789423207666416102355444464034512895");
    //  10^76 (Python: hex (10**76)), the only power of ten with 77 digits.
    s_check_u256_text (s_u256 (0x0000000000000000ULL, 0x7775a5f171951000ULL,
                               0x0764b4abe8652979ULL, 0x161bcca7119915b5ULL),
                       "1000000000000000000000000000000000000000000000000000000000000000"
                       "0000000000000");
    s_check_u256_text (s_u256 (UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX),
                       S_UINT256_MAX_TEXT);

    dv_u256_t maximum = s_u256 (UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX);
    char text[DV_U256_TEXT_MAX + 1];
    assert_int_equal (dv_u256_format (&maximum, text), DV_U256_TEXT_MAX);

    uint64_t random_state = 0xa5a5a5a5deadbeefULL;
    for (int round = 0; round < 20000; round++) {
        dv_u256_t value = s_u256 (s_random_sized (&random_state), 0, 0, 0);
        //  Leave some high limbs zero, so that all lengths come up.
        unsigned top = (unsigned) (s_random (&random_state) % 4);
        for (unsigned limb = 1; limb <= top; limb++)
            value.limb[limb] = s_random_sized (&random_state);
        char expected[DV_U256_TEXT_MAX + 1];
        s_reference_u256_text (value, expected);
        s_check_u256_text (value, expected);
    }
}

//  The formatters write the digits and one NUL, and nothing past them.
static void
test_format_writes_no_further (void **state)
{
    (void) state;
    char text[DV_U256_TEXT_MAX + 8];
    memset (text, '#', sizeof text);
    assert_int_equal (dv_i64_format (-42, text), 3);
    assert_memory_equal (text, "-42\0#", 5);

    memset (text, '#', sizeof text);
    assert_int_equal (dv_u128_format (s_u128 (1, 0), text), 20);
    assert_int_equal (text[20], '\0');
    assert_int_equal (text[21], '#');

    dv_u256_t value = s_u256 (7, 0, 0, 0);
    memset (text, '#', sizeof text);
    assert_int_equal (dv_u256_format (&value, text), 1);
    assert_memory_equal (text, "7\0#", 3);
}

static void
test_u256_add_u128_carries (void **state)
{
    (void) state;
    struct {
        dv_u256_t sum;
        dv_u128_t addend;
        dv_u256_t expected;
    } cases[] = {
        {s_u256 (0, 0, 0, 0), 0, s_u256 (0, 0, 0, 0)},
        {s_u256 (1, 2, 3, 4), s_u128 (5, 6), s_u256 (7, 7, 3, 4)},
        //  Carry from limb 0 into limb 1.
        {s_u256 (UINT64_MAX, 0, 0, 0), 1, s_u256 (0, 1, 0, 0)},
        //  Carry from limb 0 rippling through limbs 1 and 2 into limb 3.
        {s_u256 (UINT64_MAX, UINT64_MAX, UINT64_MAX, 0), 1, s_u256 (0, 0, 0, 1)},
        //  Carry out of the high addend limb alone.
        {s_u256 (0, UINT64_MAX, 0, 0), s_u128 (1, 0), s_u256 (0, 0, 1, 0)},
        {s_u256 (0, UINT64_MAX, UINT64_MAX, 9), s_u128 (1, 0), s_u256 (0, 0, 0, 10)},
        //  Both limbs carry at once: 7 * 2^128 - 2.
        {s_u256 (UINT64_MAX, UINT64_MAX, 5, 0), s_u128 (UINT64_MAX, UINT64_MAX),
         s_u256 (UINT64_MAX - 1, UINT64_MAX, 6, 0)},
        //  The low carry alone makes limb 1 overflow.
        {s_u256 (1, UINT64_MAX, 0, 0), s_u128 (0, UINT64_MAX), s_u256 (0, 0, 1, 0)},
        //  limb 1 + high is exactly 2^64 - 1 and the low carry tips it over.
        {s_u256 (UINT64_MAX, UINT64_MAX - 3, UINT64_MAX, 0), s_u128 (3, 1),
         s_u256 (0, 0, 0, 1)},
        //  Wraps past 2^256 (documented).
        {s_u256 (UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX), 1, s_u256 (0, 0, 0, 0)},
        {s_u256 (UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX),
         s_u128 (UINT64_MAX, UINT64_MAX), s_u256 (UINT64_MAX - 1, UINT64_MAX, 0, 0)},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        dv_u256_t sum = cases[index].sum;
        dv_u256_add_u128 (&sum, cases[index].addend);
        if (!dv_u256_equal (&sum, &cases[index].expected))
            fail_msg ("case %zu: limbs %016" PRIx64 " %016" PRIx64 " %016" PRIx64
                      " %016" PRIx64,
                      index, sum.limb[3], sum.limb[2], sum.limb[1], sum.limb[0]);
    }
}

//  dv_u256_add_u128 against dv_u256_add, and both against a limb-by-limb sum
//  written here, for random operands with many all-ones limbs (carry chains).
static void
test_u256_add_matches_reference (void **state)
{
    (void) state;
    uint64_t random_state = 0x1badb002c0ffee11ULL;
    for (int round = 0; round < 100000; round++) {
        uint64_t pick[6];
        for (int index = 0; index < 6; index++) {
            uint64_t kind = s_random (&random_state) % 4;
            pick[index] = kind == 0   ? UINT64_MAX
                          : kind == 1 ? 0
                                      : s_random_sized (&random_state);
        }
        dv_u256_t sum = s_u256 (pick[0], pick[1], pick[2], pick[3]);
        dv_u128_t addend = s_u128 (pick[5], pick[4]);

        dv_u256_t expected;
        unsigned carry = 0;
        uint64_t addend_limbs[4] = {pick[4], pick[5], 0, 0};
        for (int limb = 0; limb < 4; limb++) {
            uint64_t partial = sum.limb[limb] + addend_limbs[limb];
            unsigned carry_out = partial < sum.limb[limb];
            expected.limb[limb] = partial + carry;
            carry_out |= expected.limb[limb] < partial;
            carry = carry_out;
        }
        dv_u256_t via_u256 = sum;
        dv_u256_t wide_addend = s_u256 (pick[4], pick[5], 0, 0);
        dv_u256_add (&via_u256, &wide_addend);
        dv_u256_add_u128 (&sum, addend);
        assert_true (dv_u256_equal (&sum, &expected));
        assert_true (dv_u256_equal (&via_u256, &expected));
    }
}

static void
test_u256_equal (void **state)
{
    (void) state;
    dv_u256_t a = s_u256 (1, 2, 3, 4);
    dv_u256_t b = s_u256 (1, 2, 3, 4);
    assert_true (dv_u256_equal (&a, &b));
    for (int limb = 0; limb < 4; limb++) {
        b = a;
        b.limb[limb] ^= UINT64_C (1) << 63;
        assert_false (dv_u256_equal (&a, &b));
    }
}

//  Starts worth trying for every count: the ends of int64, zero, the edges
//  of 32-bit and of squares that fit 64 bits.
static const int64_t s_interesting_starts[] = {
    0,
    1,
    -1,
    2,
    -2,
    -7,
    1000,
    -1000,
    3037000499,
    -3037000500,
    4294967295,
    -4294967296,
    INT64_MIN,
    INT64_MIN + 1,
    INT64_MIN + 5,
    -(INT64_C (1) << 62),
    INT64_C (1) << 62,
};
static const uint64_t s_interesting_counts[] = {1,  2,  3,  4,   5,   6,    7,
                                                11, 13, 64, 100, 999, 1000, 4097};

static void
test_range_sum_against_loop (void **state)
{
    (void) state;
    for (size_t c = 0; c < sizeof s_interesting_counts / sizeof (uint64_t); c++) {
        uint64_t count = s_interesting_counts[c];
        for (size_t s = 0; s < sizeof s_interesting_starts / sizeof (int64_t); s++)
            s_check_range_against_loop (s_interesting_starts[s], count);
        //  Ranges that cross zero, end at zero, end just below it, and end at
        //  INT64_MAX.
        s_check_range_against_loop (-(int64_t) (count / 2), count);
        s_check_range_against_loop (1 - (int64_t) count, count);
        s_check_range_against_loop (-(int64_t) count, count);
        s_check_range_against_loop ((int64_t) ((uint64_t) INT64_MAX - count + 1), count);
    }
    //  Random starts and short counts, kept inside int64.
    uint64_t random_state = 0xc001d00dc001d00dULL;
    for (int round = 0; round < 2000; round++) {
        int64_t start = (int64_t) s_random_sized (&random_state);
        if (round % 2)
            start = -start;
        uint64_t count = 1 + s_random (&random_state) % 300;
        if (start > 0 && (uint64_t) start > (uint64_t) INT64_MAX - count + 1)
            start = (int64_t) ((uint64_t) INT64_MAX - count + 1);
        s_check_range_against_loop (start, count);
    }
}

static void
test_range_sum_literals (void **state)
{
    (void) state;
    s_check_range_text (0, 0, "0");
    s_check_range_text (12345, 0, "0");
    s_check_range_text (0, 1, "0");
    s_check_range_text (-5, 1, "25");
    s_check_range_text (1, 10, "385");
    s_check_range_text (-10, 21, "770");
    s_check_range_text (INT64_MIN, 1, S_TWO_POW_63_SQUARED);
    s_check_range_text (INT64_MAX, 1, S_INT64_MAX_SQUARED);
    s_check_range_text (INT64_MIN, 2, "170141183460469231713240559642174554113");

    //  The known value, and the same by brute force.
    s_check_range_text (1, 1000000, "333333833333500000");
    s_check_range_against_loop (1, 1000000);

    //  Huge ranges, far beyond any loop (Python: sum by the closed form,
    //  itself checked against a loop on small ranges).
    s_check_range_text (INT64_MIN, UINT64_C (1) << 32,
                        "365375409162584546156475445200047027156580040704");
    s_check_range_text ((int64_t) ((uint64_t) INT64_MAX - (UINT64_C (1) << 32) + 1),
                        UINT64_C (1) << 32,
                        "365375409162584546077247282704229433636745641984");
    s_check_range_text (-(INT64_C (1) << 62), UINT64_C (1) << 63,
                        "65386476410277924623289473158413191835936764552642822144");
    s_check_range_text (0, UINT64_C (1) << 63,
                        "261545905641111698450622596768535459406213546263172874240");
    //  The largest job there is: every int64 but INT64_MAX, and but INT64_MIN.
    s_check_range_text (INT64_MIN, UINT64_MAX,
                        "523091811282223396901245193537070918830873836600055300095");
    s_check_range_text (INT64_MIN + 1, UINT64_MAX,
                        "523091811282223396901245193537070918812427092526345748480");
}

//  For ranges too big to loop over: splitting a range in two must not change
//  its sum, and a range mirrored through zero has the same sum.
static void
test_range_sum_split_and_mirror (void **state)
{
    (void) state;
    uint64_t random_state = 0x0ddba11deadfa11ULL;
    for (int round = 0; round < 20000; round++) {
        int64_t start = (int64_t) s_random (&random_state);
        //  Room left from start to INT64_MAX, as a count (at most 2^64 - 1).
        uint64_t room = (uint64_t) INT64_MAX - (uint64_t) start;
        uint64_t count = room == UINT64_MAX ? s_random (&random_state)
                                            : s_random (&random_state) % (room + 1);
        if (count == 0)
            count = 1;
        uint64_t first = s_random (&random_state) % count;
        dv_u256_t whole = dv_range_sum_of_squares (start, count);
        dv_u256_t parts = dv_range_sum_of_squares (start, first);
        dv_u256_t second =
            dv_range_sum_of_squares ((int64_t) ((uint64_t) start + first), count - first);
        dv_u256_add (&parts, &second);
        assert_true (dv_u256_equal (&whole, &parts));

        int64_t last = (int64_t) ((uint64_t) start + count - 1);
        if (last != INT64_MIN) {
            dv_u256_t mirrored = dv_range_sum_of_squares (-last, count);
            assert_true (dv_u256_equal (&whole, &mirrored));
        }
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_square_literals),
        cmocka_unit_test (test_square_identities),
        cmocka_unit_test (test_format_u64_and_i64),
        cmocka_unit_test (test_format_u128),
        cmocka_unit_test (test_format_boundaries_and_squares),
        cmocka_unit_test (test_format_u256),
        cmocka_unit_test (test_format_writes_no_further),
        cmocka_unit_test (test_u256_add_u128_carries),
        cmocka_unit_test (test_u256_add_matches_reference),
        cmocka_unit_test (test_u256_equal),
        cmocka_unit_test (test_range_sum_against_loop),
        cmocka_unit_test (test_range_sum_literals),
        cmocka_unit_test (test_range_sum_split_and_mirror),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
