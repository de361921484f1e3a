"""UN/EDIFACT readers: an envelope layer (interchange → messages, checked) and one reader per
message type, all on pydifact's tokenizer."""
