/* Keeps the support library non-empty before any helper exists. */
typedef int sl_test_support_placeholder;
