
spans too old