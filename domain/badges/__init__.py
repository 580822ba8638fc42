"""Red Scarf badges (红领巾奖章): the catalogue of one county."""
