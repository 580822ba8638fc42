"""Collection tasks (征集): online lessons completed, works submitted and feedback forms filled in
by pupils; reviewed by a counselor, rewarded with points and special badges."""
