"""Text as the models see it: sentences, speakers, passages (chunking), language."""
