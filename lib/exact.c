/*  exact.c: 128- and 256-bit decimal printing and the closed-form range sum.

    Printing runs once per result line when the sink is not quiet, so it
    writes in place, two digits per read of a 00..99 table: a 64-bit value
    splits into 8-digit blocks (one or two 64-bit divisions by constants),
    each block into two halves of 32-bit arithmetic that run side by side.
    A 128-bit value that fits 64 bits (every square of a value under 2^32)
    takes the 64-bit path, a larger one splits into 19-digit chunks with one
    or two 128-bit divisions.
*/
#include "exact.h"

#include <string.h>

#define S_TEN_POW_8  100000000ULL
#define S_TEN_POW_16 10000000000000000ULL
#define S_TEN_POW_19 10000000000000000000ULL

//  "00" "01" ... "99": two digits per table read, half the divisions.
static const char s_pairs[201] = "00010203040506070809"
                                 "10111213141516171819"
                                 "20212223242526272829"
                                 "30313233343536373839"
                                 "40414243444546474849"
                                 "50515253545556575859"
                                 "60616263646566676869"
                                 "70717273747576777879"
                                 "80818283848586878889"
                                 "90919293949596979899";

//  Writes exactly 8 digits of value (< 10^8) at text: two independent
//  halves, each two table reads, all 32-bit arithmetic.
static inline void
s_put_8_digits (uint32_t value, char *text)
{
    uint32_t high = value / 10000;
    uint32_t low = value % 10000;
    memcpy (text, s_pairs + 2 * (high / 100), 2);
    memcpy (text + 2, s_pairs + 2 * (high % 100), 2);
    memcpy (text + 4, s_pairs + 2 * (low / 100), 2);
    memcpy (text + 6, s_pairs + 2 * (low % 100), 2);
}

//  Writes value (< 10^8) without leading zeros; returns its length.
static inline size_t
s_put_up_to_8_digits (uint32_t value, char *text)
{
    size_t length = value < 10000      ? (value < 100    ? (value < 10 ? 1 : 2)
                                          : value < 1000 ? 3
                                                         : 4)
                    : value < 1000000  ? (value < 100000 ? 5 : 6)
                    : value < 10000000 ? 7
                                       : 8;
    char *end = text + length;
    while (value >= 100) {
        end -= 2;
        memcpy (end, s_pairs + 2 * (value % 100), 2);
        value /= 100;
    }
    if (value >= 10)
        memcpy (end - 2, s_pairs + 2 * value, 2);
    else
        end[-1] = (char) ('0' + value);
    return length;
}

//  Writes exactly 19 digits of value (< 10^19) at text.
static inline void
s_put_19_digits (uint64_t value, char *text)
{
    uint32_t top = (uint32_t) (value / S_TEN_POW_16); //  < 1000
    uint64_t rest = value % S_TEN_POW_16;
    text[0] = (char) ('0' + top / 100);
    memcpy (text + 1, s_pairs + 2 * (top % 100), 2);
    s_put_8_digits ((uint32_t) (rest / S_TEN_POW_8), text + 3);
    s_put_8_digits ((uint32_t) (rest % S_TEN_POW_8), text + 11);
}

size_t
dv_u64_format (uint64_t value, char *text)
{
    size_t length;
    if (value < S_TEN_POW_8)
        length = s_put_up_to_8_digits ((uint32_t) value, text);
    else if (value < S_TEN_POW_16) {
        length = s_put_up_to_8_digits ((uint32_t) (value / S_TEN_POW_8), text);
        s_put_8_digits ((uint32_t) (value % S_TEN_POW_8), text + length);
        length += 8;
    } else {
        length = s_put_up_to_8_digits ((uint32_t) (value / S_TEN_POW_16), text);
        uint64_t rest = value % S_TEN_POW_16;
        s_put_8_digits ((uint32_t) (rest / S_TEN_POW_8), text + length);
        s_put_8_digits ((uint32_t) (rest % S_TEN_POW_8), text + length + 8);
        length += 16;
    }
    text[length] = '\0';
    return length;
}

size_t
dv_i64_format (int64_t value, char *text)
{
    if (value >= 0)
        return dv_u64_format ((uint64_t) value, text);
    text[0] = '-';
    return 1 + dv_u64_format (-(uint64_t) value, text + 1);
}

size_t
dv_u128_format (dv_u128_t value, char *text)
{
    if (value <= UINT64_MAX)
        return dv_u64_format ((uint64_t) value, text);
    //  At most 39 digits: a head of 1..20 and one or two 19-digit chunks.
    uint64_t low = (uint64_t) (value % S_TEN_POW_19);
    value /= S_TEN_POW_19;
    uint64_t middle = 0;
    bool three = value > UINT64_MAX;
    if (three) {
        middle = (uint64_t) (value % S_TEN_POW_19);
        value /= S_TEN_POW_19;
    }
    size_t length = dv_u64_format ((uint64_t) value, text);
    if (three) {
        s_put_19_digits (middle, text + length);
        length += 19;
    }
    s_put_19_digits (low, text + length);
    length += 19;
    text[length] = '\0';
    return length;
}

//  Divides *value by divisor in place and returns the remainder.
static uint64_t
s_u256_divide_small (dv_u256_t *value, uint64_t divisor)
{
    dv_u128_t remainder = 0;
    for (int limb = 3; limb >= 0; limb--) {
        dv_u128_t current = (remainder << 64) | value->limb[limb];
        value->limb[limb] = (uint64_t) (current / divisor);
        remainder = current % divisor;
    }
    return (uint64_t) remainder;
}

static bool
s_u256_is_zero (const dv_u256_t *value)
{
    return !(value->limb[0] | value->limb[1] | value->limb[2] | value->limb[3]);
}

size_t
dv_u256_format (const dv_u256_t *value, char *text)
{
    //  19-digit chunks, least significant first, then written out in order.
    uint64_t chunks[(DV_U256_TEXT_MAX + 18) / 19];
    size_t count = 0;
    dv_u256_t rest = *value;
    do
        chunks[count++] = s_u256_divide_small (&rest, S_TEN_POW_19);
    while (!s_u256_is_zero (&rest));
    size_t length = dv_u64_format (chunks[--count], text);
    while (count--) {
        s_put_19_digits (chunks[count], text + length);
        length += 19;
    }
    text[length] = '\0';
    return length;
}

void
dv_u256_add (dv_u256_t *sum, const dv_u256_t *addend)
{
    uint64_t carry = 0;
    for (int limb = 0; limb < 4; limb++) {
        dv_u128_t total = (dv_u128_t) sum->limb[limb] + addend->limb[limb] + carry;
        sum->limb[limb] = (uint64_t) total;
        carry = (uint64_t) (total >> 64);
    }
}

bool
dv_u256_equal (const dv_u256_t *a, const dv_u256_t *b)
{
    return memcmp (a->limb, b->limb, sizeof a->limb) == 0;
}

//  *value *= factor, modulo 2^256.
static void
s_u256_multiply_small (dv_u256_t *value, uint64_t factor)
{
    uint64_t carry = 0;
    for (int limb = 0; limb < 4; limb++) {
        dv_u128_t product = (dv_u128_t) value->limb[limb] * factor + carry;
        value->limb[limb] = (uint64_t) product;
        carry = (uint64_t) (product >> 64);
    }
}

static dv_u256_t
s_u256_from_u64 (uint64_t value)
{
    dv_u256_t result = {{value, 0, 0, 0}};
    return result;
}

static void
s_u256_negate (dv_u256_t *value)
{
    for (int limb = 0; limb < 4; limb++)
        value->limb[limb] = ~value->limb[limb];
    dv_u256_t one = s_u256_from_u64 (1);
    dv_u256_add (value, &one);
}

//  sum over i in [0, n) of (s + i)^2 = n*s^2 + s*n*(n-1) + (n-1)*n*(2n-1)/6,
//  evaluated in 256-bit two's complement: the middle term is negative when s
//  is, and the total is the true (non-negative) sum, well under 2^192.
dv_u256_t
dv_range_sum_of_squares (int64_t start, uint64_t count)
{
    if (count == 0)
        return s_u256_from_u64 (0);
    uint64_t magnitude = start < 0 ? -(uint64_t) start : (uint64_t) start;

    dv_u256_t squares_term = s_u256_from_u64 (magnitude);
    s_u256_multiply_small (&squares_term, magnitude);
    s_u256_multiply_small (&squares_term, count);

    dv_u256_t cross_term = s_u256_from_u64 (count);
    s_u256_multiply_small (&cross_term, count - 1);
    s_u256_multiply_small (&cross_term, magnitude);
    if (start < 0)
        s_u256_negate (&cross_term);

    //  (n-1)*n*(2n-1) is always divisible by 6; 2n-1 may exceed 64 bits, so
    //  multiply by n twice-over as (2n - 1) = n + (n - 1).
    dv_u256_t cubic_term = s_u256_from_u64 (count);
    s_u256_multiply_small (&cubic_term, count - 1);
    dv_u256_t twice = cubic_term;
    s_u256_multiply_small (&cubic_term, count);
    s_u256_multiply_small (&twice, count - 1);
    dv_u256_add (&cubic_term, &twice);
    s_u256_divide_small (&cubic_term, 6);

    dv_u256_t sum = squares_term;
    dv_u256_add (&sum, &cross_term);
    dv_u256_add (&sum, &cubic_term);
    return sum;
}
