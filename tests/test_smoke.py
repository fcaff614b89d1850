from tests.conftest import NS, example_record, harvest, identifiers, make_record


def test_example_article_harvests_as_valid_oai_dc_with_rights(app, oai, load):
    load([example_record()])
    root = oai(
        verb="GetRecord", identifier="oai:repo.example.org:article/587", metadataPrefix="oai_dc"
    )
    rights = root.xpath("//dc:rights/text()", namespaces=NS)
    assert rights == [
        "info:eu-repo/semantics/openAccess",
        "Copyright (c) 2004 Author",
        "https://creativecommons.org/licenses/by/4.0/",
    ]


def test_list_records_pages_through_everything(app, oai, load):
    load([make_record(i) for i in range(10)])
    items, tokens = harvest(oai, "ListRecords", metadataPrefix="oai_dc")
    assert sorted(identifiers(items)) == sorted(
        f"oai:repo.example.org:article/{i}" for i in range(10)
    )
    assert tokens[-1].text is None
