"""Care (关爱): pupils in hardship with their aid and visit log, and volunteer projects."""
