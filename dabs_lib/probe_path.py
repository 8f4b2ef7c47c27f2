"""The linear probe's default L2 path: the one owner of these numbers (torch-free, so the
driver's trial settings can import it without torch).

Wide on purpose: every evaluation chooses the strength on validation along this path, so
it is model selection, not a hyperparameter; search spaces never search it.
"""

L2_MIN = 1e-6  # weakest L2 strength on the path (loss = mean loss + l2/2 * ||W||^2)
L2_MAX = 10.0  # strongest L2 strength; the path starts here and warm-starts downwards
L2_STEPS = 10  # log-spaced strengths on the path; at least 8
