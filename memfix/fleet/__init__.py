"""Many repositories at once: the same work on each, on threads here or on a Ray cluster.

`tasks` is the work on one repository (data in, data out), `driver` hands the work to an
executor, retries what raised once and writes each result as it comes back, `outputs`
is every file the results leave under OUT, `local` and `ray_executor` the executors.
"""
