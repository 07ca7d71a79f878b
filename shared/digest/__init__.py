"""The coordinators' weekly digest: the volunteers' funnel and its evolution, the binômes needing
attention, the needs without a solution, the structures that do not answer and the volunteers left
waiting — for the whole collective and for each antenna."""
