"""The recommenders' dense scoring, called by the dbt Python model python_models/intermediate/int_candidate_features.py.

Collaborative filtering and content-based filtering score every scored customer against every sale open on the day:
at a million customers and ~370 open sales that is nearly a dense matrix per recommender (hundreds of millions of
non-zero scores), which as long SQL rows (one per customer, sale and family) did not fit a night on two cores. The
same sums are computed here as sparse x dense matrix products, customer by customer block, and only the pairs the
candidate rule keeps leave the model (see `scoring`).
"""
