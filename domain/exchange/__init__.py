"""Exchange (兑换): points for partners' items, with stock and pickup codes."""
