

def test_sample_invoice_is_valid(make_xml, findings):
    for n in (1, 3, 7):
        assert findings(make_xml(conceptos=n)) == []
