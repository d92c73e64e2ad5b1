"""Question → ranked, cited passages: candidates, fusion, answer sentence, decline, evaluation."""
