"""Records on paper: read a page image or PDF offline and propose lexicon-aware corrections (Qt-free)."""
