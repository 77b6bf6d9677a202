"""W2 parameters of risk i, as issue 6 defines them (shared by gen.py and pyfair_run.py)."""


def w2_params(i):
    lef_low = 0.05 * (1 + i % 10)
    lef_mode = lef_low * (2 + 0.5 * (i % 7))
    lef_high = lef_mode * (3 + i % 5)
    lm_low = 5000 * (1 + i % 13)
    lm_mode = lm_low * (2 + i % 4)
    lm_high = lm_mode * (5 + 2 * (i % 11))
    return (lef_low, lef_mode, lef_high), (lm_low, lm_mode, lm_high)
