//! Stage 2 (todo)
